package io.llamux.cli;

import io.llamux.daemon.Posix;
import io.llamux.gguf.GgufFile;
import io.llamux.gguf.LoadProgress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * Opening the model of a command that runs it (run, perplexity, bench). A mapped file costs
 * nothing to open; its bytes come from disk as the first pass touches them, which on a large
 * file not in the page cache is most of the wait. On a terminal that wait is shown: the file is
 * read in first, with bytes, percent and rate on one line of standard error. Elsewhere (scripts,
 * tests) nothing is read ahead and nothing printed.
 */
final class ModelFile {
    static final String READING = "reading the model";

    private ModelFile() {
    }

    /** Maps {@code path}; when standard error is a terminal, reads it in with progress on {@code err}. */
    static GgufFile open(Path path, PrintWriter err) throws IOException {
        GgufFile file = GgufFile.open(path);
        readIn(file, terminal(err));
        return file;
    }

    /** {@code err} when file descriptor 2 is a terminal, else null. */
    static PrintWriter terminal(PrintWriter err) {
        return Posix.isatty(2) ? err : null;
    }

    /** Reads {@code file} in with progress on {@code terminal}; nothing when that is null. */
    static void readIn(GgufFile file, PrintWriter terminal) {
        if (terminal != null) {
            file.readIn(LoadProgress.of(READING, null, terminal));
        }
    }
}
