package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command, given a model file that is missing, a directory, empty, not GGUF or cut short,
 * prints one line that says what is wrong with which file (Main.report), no stack trace, and
 * exits with 1.
 */
class CliErrorsTest {
    @TempDir
    static Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result llamux(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** The command line of each command that reads a model, with MODEL where the file goes. */
    private static List<String[]> commands(Path text) {
        return List.of(
                new String[] {"info", "MODEL"},
                new String[] {"tokenize", "-m", "MODEL", "hello"},
                new String[] {"run", "-m", "MODEL", "-p", "hello", "-n", "1", "--temp", "0"},
                new String[] {"perplexity", "-m", "MODEL", "-f", text.toString()},
                new String[] {"bench", "-m", "MODEL", "-r", "1", "-p", "0", "-n", "1", "--warm-up", "0"});
    }

    private static String[] with(String[] command, Path model) {
        return Arrays.stream(command).map(a -> a.equals("MODEL") ? model.toString() : a).toArray(String[]::new);
    }

    private static void assertOneLine(Result r, String command, String expected) {
        String nl = System.lineSeparator();
        assertEquals(1, r.exit(), command + ": " + r.err());
        assertTrue(r.err().endsWith(nl) && r.err().indexOf(nl) == r.err().length() - nl.length(),
                command + ": one line expected: " + r.err());
        assertTrue(r.err().startsWith("llamux: "), r.err());
        assertTrue(r.err().contains(expected), command + ": expected '" + expected + "' in: " + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat ") || r.err().contains("internal error"),
                command + ": " + r.err());
    }

    @Test
    void aMissingModelIsNoSuchFile() throws IOException {
        Path text = Files.writeString(dir.resolve("text.txt"), "Once upon a time");
        Path missing = dir.resolve("nonexistent.gguf");
        for (String[] c : commands(text)) {
            assertOneLine(llamux(with(c, missing)), c[0], missing + ": no such file");
        }
    }

    @Test
    void aModelThatIsNotAGgufFileSaysSo() throws IOException {
        Path text = Files.writeString(dir.resolve("story.txt"), "Once upon a time there was a file.\n");
        Path empty = Files.write(dir.resolve("empty.gguf"), new byte[0]);
        Path sub = Files.createDirectories(dir.resolve("models.d"));
        List<Path> bad = new ArrayList<>(List.of(text, empty, sub));
        Path real = Shared.ROOT.resolve("models/stories260K.gguf");
        if (Files.exists(real)) {
            byte[] head = Arrays.copyOf(Files.readAllBytes(real), 4096);
            bad.add(Files.write(dir.resolve("cut.gguf"), head));
        }
        for (Path model : bad) {
            for (String[] c : commands(text)) {
                assertOneLine(llamux(with(c, model)), c[0], model.toString());
            }
        }
    }

    @Test
    void aMissingPromptOrTextFileIsNoSuchFile() {
        Path real = Shared.require("models/stories260K.gguf");
        Path missing = dir.resolve("no-prompt.txt");
        assertOneLine(llamux("run", "-m", real.toString(), "-f", missing.toString()), "run", missing + ": no such file");
        assertOneLine(llamux("perplexity", "-m", real.toString(), "-f", missing.toString()), "perplexity",
                missing + ": no such file");
        assertOneLine(llamux("tokenize", "-m", real.toString(), "-f", missing.toString()), "tokenize",
                missing + ": no such file");
    }

    @Test
    void aBugIsAnInternalErrorOnOneLineAndWrappedIoErrorsAreUnwrapped() {
        StringWriter err = new StringWriter();
        Main.report(new PrintWriter(err), "llamux run", new IllegalStateException("oops"));
        assertTrue(err.toString().startsWith("llamux run: internal error: java.lang.IllegalStateException: oops"),
                err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
        err = new StringWriter();
        Main.report(new PrintWriter(err), "llamux run",
                new UncheckedIOException(new java.nio.file.NoSuchFileException("/x.gguf")));
        assertEquals("llamux run: /x.gguf: no such file" + System.lineSeparator(), err.toString());
    }

    @Test
    void runningOutOfHeapIsOneLineThatSaysWhatToDo() {
        StringWriter err = new StringWriter();
        Main.report(new PrintWriter(err), "llamux", new OutOfMemoryError("Java heap space"));
        assertEquals("llamux: out of memory: Java heap space (a smaller -c, or more heap with "
                + "LLAMUX_JAVA_OPTS=-Xmx...)" + System.lineSeparator(), err.toString());
    }

    @Test
    void usageMistakesNameTheCommandAndExitWith2() {
        Result r = llamux("run", "--temp");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("llamux: "), r.err());
        assertTrue(r.err().contains("Try 'llamux run --help'."), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertTrue(new String(r.out().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).isEmpty());
    }
}
