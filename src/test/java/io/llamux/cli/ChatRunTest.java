package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.ScriptedChatModel;
import io.llamux.testing.Shared;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code llamux run --chat}: templated turns, a conversation through a pipe, /reset, end of turn. */
class ChatRunTest {
    private static final Pattern TURN = Pattern.compile(
            "llamux: prompt (\\d+) tokens \\((\\d+) new, (\\d+) cached\\).*stopped: (.*)");

    @TempDir
    static Path dir;
    static Path scripted;

    @BeforeAll
    static void model() throws IOException {
        scripted = ScriptedChatModel.write(dir);
    }

    record Result(int exit, String out, String err) {
        List<Matcher> turns() {
            return err.lines().map(TURN::matcher).filter(Matcher::matches).toList();
        }
    }

    static Result run(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine main = Main.commandLine();
        CommandLine cl = new CommandLine(new RunCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))))
                .setExecutionExceptionHandler(main.getExecutionExceptionHandler())
                .setParameterExceptionHandler(main.getParameterExceptionHandler());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    /** The must-show: two turns through a pipe, each answer ending at the end-of-turn token. */
    @Test
    void aPipedConversationAnswersEachLineAndStopsAtEndOfTurn() {
        Result r = run("Hi there\nAnd now?\n", "-cnv", "-m", scripted.toString(), "--temp", "0", "-t", "1");
        assertEquals(0, r.exit(), r.err());
        String nl = System.lineSeparator();
        assertEquals(ScriptedChatModel.ANSWER + nl + ScriptedChatModel.ANSWER + nl, r.out(), "<|end|> is not printed");
        List<Matcher> turns = r.turns();
        assertEquals(2, turns.size(), r.err());
        for (Matcher t : turns) {
            assertEquals("end of turn", t.group(4));
        }
        // The second turn reuses the first's cache: only the tokens after it are processed.
        int whole = Integer.parseInt(turns.get(1).group(1));
        int fresh = Integer.parseInt(turns.get(1).group(2));
        int cached = Integer.parseInt(turns.get(1).group(3));
        assertEquals(whole, fresh + cached);
        assertTrue(cached >= Integer.parseInt(turns.get(0).group(1)), r.err());
    }

    @Test
    void resetStartsOverAndTheSystemMessageStays() {
        Result r = run("Hi\n/reset\nHi\n", "--chat", "-m", scripted.toString(), "--temp", "0", "-t", "1",
                "-sys", "Be brief.");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("llamux: conversation reset (the system message stays)"), r.err());
        List<Matcher> turns = r.turns();
        assertEquals(2, turns.size(), r.err());
        assertEquals(turns.get(0).group(1), turns.get(1).group(1), "after /reset the prompt is the first one again");
    }

    @Test
    void oneTurnWithPromptAndAConversationFromAFile() throws IOException {
        Result one = run("", "--chat", "-m", scripted.toString(), "--temp", "0", "-p", "Hi");
        assertEquals(0, one.exit(), one.err());
        assertEquals(ScriptedChatModel.ANSWER + System.lineSeparator(), one.out());
        Path conv = Files.writeString(dir.resolve("conv.json"), "[{\"role\":\"user\",\"content\":\"Hi\"},"
                + "{\"role\":\"assistant\",\"content\":\" Hello!\"},{\"role\":\"user\",\"content\":\"Again\"}]");
        Result file = run("", "--chat", "-m", scripted.toString(), "--temp", "0", "--messages", conv.toString());
        assertEquals(0, file.exit(), file.err());
        assertEquals(ScriptedChatModel.ANSWER + System.lineSeparator(), file.out());
        assertEquals(1, file.turns().size(), file.err());
    }

    @Test
    void chatOptionsAreChecked() {
        Result sys = run("", "-m", scripted.toString(), "-sys", "x", "-p", "Hi");
        assertEquals(2, sys.exit());
        assertTrue(sys.err().startsWith("llamux: -sys, --chat-template and --messages go with --chat"), sys.err());
        Path stories = Shared.ROOT.resolve("models/stories260K.gguf");
        if (Files.exists(stories)) {
            Result none = run("", "--chat", "-m", stories.toString(), "-p", "Hi");
            assertEquals(1, none.exit());
            assertTrue(none.err().contains("has no chat template (tokenizer.chat_template): give one with --chat-template"),
                    none.err());
        }
    }
}
