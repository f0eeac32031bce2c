package io.llamux.tokenizer;


import io.llamux.testing.Shared;
import io.llamux.gguf.GgufFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The read-only reference data in ../shared, and tokenizers loaded from it once per run. */
final class SharedFiles {
    static final Path SHARED = Path.of("..", "shared");
    private static final Map<Path, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private SharedFiles() {
    }

    /** The file under ../shared; the test is skipped (not failed) when ../shared is absent. */
    static Path require(String relative) {
        Shared.require(SHARED);
        Path p = SHARED.resolve(relative);
        if (!Files.exists(p)) {
            throw new AssertionError("../shared exists but " + p + " is missing");
        }
        return p;
    }

    static Tokenizer tokenizer(String relative) {
        Path path = require(relative);
        return TOKENIZERS.computeIfAbsent(path, p -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizer.fromGguf(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
