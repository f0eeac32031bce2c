package io.llamux.cli;

import io.llamux.daemon.Channel;
import io.llamux.daemon.KernelMessage;
import io.llamux.testing.Shared;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonCommandTest {
    private record Run(int code, String err) {
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void badOptionsAreUsageErrorsNamingThem() {
        Run r = run("daemon", "-m", "x.gguf", "--huge-pages", "maybe");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--huge-pages takes auto, hugetlb or off, not maybe"), r.err());
        r = run("daemon", "-m", "x.gguf", "--defaults", "temperature=warm");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--defaults: bad value in 'temperature=warm'"), r.err());
        r = run("daemon", "-m", "x.gguf", "--log-level", "loud");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown --log-level loud"), r.err());
        r = run("daemon", "-m", "x.gguf", "--kv-cache-memory", "lots");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--kv-cache-memory takes bytes, or a number with K, M or G (e.g. 512M, 2G), not 'lots'"),
                r.err());
    }

    @Test
    void helpDescribesTheDaemon() {
        StringWriter out = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("daemon", "--help"));
        assertTrue(out.toString().contains("Serve /proc/llamux"), out.toString());
        assertTrue(out.toString().contains("--huge-pages=MODE"), out.toString());
    }

    @Test
    void aMissingModelIsAConfigurationErrorAndAMissingDeviceIsNot() {
        // 3: llamuxd.service's RestartPreventExitStatus (a restart cannot mend it); 1: restarted.
        Run missing = run("daemon", "-m", "/nonexistent/model.gguf");
        assertEquals(DaemonCommand.EXIT_MODEL, missing.code());
        assertEquals(3, DaemonCommand.EXIT_MODEL);
        Path model = Shared.require("models/stories260K.gguf");
        assertEquals(1, run("daemon", "-m", model.toString(), "-t", "1", "--device", "/nonexistent/llamux",
                "--device-wait", "0").code());
    }

    @Test
    void theUnitDoesNotRestartConfigurationErrors() throws Exception {
        String unit = Files.readString(Path.of("systemd/llamuxd.service"));
        assertTrue(unit.contains("\nRestartPreventExitStatus=2 3\n"), unit);
    }

    /** A device that takes the HELLO and status lines, then reports itself closed. */
    private static final class ClosedDevice implements Channel {
        @Override
        public KernelMessage receive(int timeoutMillis) throws IOException {
            throw new Channel.ChannelClosedException("test device closed");
        }

        @Override
        public void send(MemorySegment reply) {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void theForwardPassIsWarmedUpBeforeReadyAndTheLoadIsReported() throws Exception {
        Path model = Shared.require("models/stories260K.gguf");
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        DaemonCommand daemon = (DaemonCommand) cl.getSubcommands().get("daemon").getCommand();
        daemon.notifier = events::add;
        daemon.opener = () -> {
            events.add("open device");
            return new ClosedDevice();
        };
        PrintStream stdout = System.out;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(log, true, StandardCharsets.UTF_8));
            code = cl.execute("daemon", "-m", model.toString(), "-t", "1", "--warm-up", "0", "--huge-pages", "off");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(1, code, "the closed device ends the daemon: " + events + "\n" + log);
        int copying = indexOf(events, "STATUS=copying the model into memory: 1 of 1 MiB (100%)");
        int warming = indexOf(events, "STATUS=warming up");
        int open = events.indexOf("open device");
        int ready = indexOf(events, "READY=1");
        assertTrue(copying >= 0 && copying < warming && warming < open && open < ready, events.toString());
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.matches("(?s).*INFO Daemon: warm-up: [1-9][0-9]* forward passes in [0-9]+ ms.*"), text);
        assertTrue(text.indexOf("warm-up:") < text.indexOf("serving "), text);
        assertTrue(text.contains("copied in"), text);
        assertTrue(text.contains("INFO Daemon: no chat template: prompts are raw text; KV caches for "), text);
    }

    @Test
    void aModelWithATemplateServesConversationsInTheCacheMemoryGiven(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path model = io.llamux.testing.ScriptedChatModel.write(dir); // one cache: 1 layer x 256 positions x 16 x 2 halves x 2
        String log = daemonLog(model, "--kv-cache-memory", "40K");
        assertTrue(log.contains("INFO Daemon: conversations in the model's chat template; KV caches for 2 users at once "
                + "(0.0 MiB each, --kv-cache-memory 40K)"), log);
        log = daemonLog(model, "--chat-template", "chatml");
        assertTrue(log.contains("INFO Daemon: conversations in chatml; KV caches for "), log);
        var cl = Main.commandLine();
        DaemonCommand daemon = (DaemonCommand) cl.getSubcommands().get("daemon").getCommand();
        daemon.notifier = e -> { };
        daemon.opener = ClosedDevice::new;
        cl.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("daemon", "-m", model.toString(), "-t", "1", "--warm-up", "0", "--huge-pages", "off",
                "--chat-template", dir.resolve("missing.jinja").toString()), "a bad --chat-template is a configuration error");
    }

    /** The daemon's log for a start on {@code model} with a device that closes at once. */
    private static String daemonLog(Path model, String... options) {
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        DaemonCommand daemon = (DaemonCommand) cl.getSubcommands().get("daemon").getCommand();
        daemon.notifier = e -> { };
        daemon.opener = ClosedDevice::new;
        PrintStream stdout = System.out;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(log, true, StandardCharsets.UTF_8));
            List<String> args = new ArrayList<>(List.of("daemon", "-m", model.toString(), "-t", "1", "--warm-up", "0",
                    "--huge-pages", "off"));
            args.addAll(List.of(options));
            assertEquals(1, cl.execute(args.toArray(String[]::new)), log.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
        }
        return log.toString(StandardCharsets.UTF_8);
    }

    private static int indexOf(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) return i;
        }
        return -1;
    }
}
