package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code llamux run} end to end on stories260K, through picocli as the launcher runs it. */
class RunCommandTest {
    private static final Path MODEL = Path.of("../shared/models/stories260K.gguf");
    private static JsonNode golden;

    @BeforeAll
    static void golden() throws Exception {
        Shared.require(MODEL);
        golden = new ObjectMapper().readTree(Path.of("../shared/golden/stories260K.json").toFile())
                .get("cases").get(0);
    }

    record Result(int exit, String out, String err) {
    }

    static Result run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine main = Main.commandLine(); // the same error handling as the launcher's
        CommandLine cl = new CommandLine(command)
                .setExecutionExceptionHandler(main.getExecutionExceptionHandler())
                .setParameterExceptionHandler(main.getParameterExceptionHandler());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void greedyTellsLlamaCppsStoryAfterThePrompt() {
        Result r = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "64", "--temp", "0", "-t", "2");
        assertEquals(0, r.exit(), r.err());
        String expected = "Once upon a time" + golden.get("greedy_text").asText();
        assertTrue(r.out().startsWith(expected), "stdout: " + r.out());
        assertTrue(r.out().length() > expected.length() + 40, "64 tokens make a longer story: " + r.out());
        assertTrue(r.err().contains("tokens/s") && r.err().contains("stopped: token limit reached"), r.err());
    }

    @Test
    void withoutATerminalTheLoadShowsNoProgress() {
        // Under surefire, descriptor 2 is a pipe: what scripts see. On a terminal the file would
        // be read in first with a progress line (ModelFile, LoadProgressTest).
        assertEquals(null, ModelFile.terminal(new PrintWriter(new StringWriter())));
        Result r = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "4", "--temp", "0");
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.err().contains(ModelFile.READING) || r.err().contains("\r"), r.err());
        for (String line : r.err().split("\n")) {
            assertTrue(line.startsWith("llamux: "), "every stderr line is one of run's own: " + r.err());
        }
    }

    @Test
    void idsArePrintedSpaceSeparatedOnOneLine() {
        Result r = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "32", "--temp", "0", "--ids");
        assertEquals(0, r.exit(), r.err());
        StringBuilder expected = new StringBuilder();
        for (JsonNode id : golden.get("greedy_ids")) {
            expected.append(expected.isEmpty() ? "" : " ").append(id.asInt());
        }
        assertEquals(expected + System.lineSeparator(), r.out());
    }

    @Test
    void theSameSeedTellsTheSameStoryTwice() {
        String[] args = {"-m", MODEL.toString(), "-p", "Once upon a time", "-n", "64", "--temp", "0.8", "--seed", "7"};
        Result a = run(new RunCommand(), args);
        Result b = run(new RunCommand(), args);
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
        assertTrue(a.out().length() > "Once upon a time".length() + 40, a.out());
        Result other = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "64",
                "--temp", "0.8", "--seed", "8");
        assertNotEquals(a.out(), other.out(), "another seed, another story");
    }

    @Test
    void badInputGetsAClearErrorAndExitCode() {
        Result noPrompt = run(new RunCommand(), "-m", MODEL.toString());
        assertEquals(2, noPrompt.exit());
        assertTrue(noPrompt.err().contains("no prompt"), noPrompt.err());
        Result missing = run(new RunCommand(), "-m", "/nonexistent/model.gguf", "-p", "x");
        assertEquals(1, missing.exit());
        assertEquals("llamux: /nonexistent/model.gguf: no such file" + System.lineSeparator(), missing.err());
        Result badTopP = run(new RunCommand(), "-m", MODEL.toString(), "-p", "x", "--top-p", "0");
        assertEquals(2, badTopP.exit());
        assertTrue(badTopP.err().contains("top-p"), badTopP.err());
    }

    @Test
    void greedyDecodingShowsNoSeedAndSamplingDoes() {
        Result greedy = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "4", "--temp", "0");
        assertEquals(0, greedy.exit(), greedy.err());
        assertFalse(greedy.err().contains("seed"), greedy.err());
        Result sampled = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "4", "--seed", "7");
        assertTrue(sampled.err().contains("llamux: seed 7"), sampled.err());
    }

    @Test
    void noDisplayPromptPrintsOnlyTheContinuation() {
        Result r = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once upon a time", "-n", "64", "--temp", "0",
                "--no-display-prompt");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith(golden.get("greedy_text").asText()), "stdout: " + r.out());
    }

    @Test
    void aContextLargerThanTheTrainedOneWarns() {
        // stories260K was trained with 2048 tokens of context.
        Result within = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once", "-n", "1", "--temp", "0", "-c", "2048");
        assertEquals(0, within.exit(), within.err());
        assertFalse(within.err().contains("warning"), within.err());
        Result beyond = run(new RunCommand(), "-m", MODEL.toString(), "-p", "Once", "-n", "1", "--temp", "0", "-c", "4096");
        assertEquals(0, beyond.exit(), beyond.err());
        assertTrue(beyond.err().contains("llamux: warning: context 4096 is larger than the 2048 tokens"), beyond.err());
    }

    @Test
    void helpSaysThePromptAndTextGoToStandardOutput() {
        StringWriter out = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("run", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        assertTrue(help.contains("prints the prompt to standard output"), help);
        assertTrue(help.contains("--no-display-prompt"), help);
        assertFalse(help.contains("the prompt and generation speeds"), help);
    }
}
