package io.llamux.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DaemonCommandTest {
    private static final Path MODEL = Path.of("../shared/models/stories260K.gguf");

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
    void aMissingModelOrDeviceFailsWithExitCode1() {
        assertEquals(1, run("daemon", "-m", "/nonexistent/model.gguf").code());
        assumeTrue(Files.exists(MODEL), "../shared/models/stories260K.gguf absent: skipped");
        assertEquals(1, run("daemon", "-m", MODEL.toString(), "-t", "1", "--device", "/nonexistent/llamux",
                "--device-wait", "0").code());
    }
}
