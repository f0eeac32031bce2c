package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code make install PREFIX=/usr/local} (scripts/install, staged with DESTDIR) on a copy of
 * this tree whose jar is a stand-in: everything lands under the prefix, the unit names the
 * prefix's launcher, the installed launcher finds its jar, JDK and JVM options there and
 * keeps the JDK's incubator warning off stderr, and uninstall removes it all again.
 */
class InstallTest {
    @TempDir
    Path tmp;

    record Result(int exit, String out, String err) {
    }

    private Result sh(Path dir, Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(env);
        pb.environment().put("LLAMUX_JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        p.getOutputStream().close();
        var out = p.inputReader(StandardCharsets.UTF_8);
        var err = p.errorReader(StandardCharsets.UTF_8);
        // Small outputs: read one after the other.
        String o = out.lines().reduce("", (a, b) -> a + b + "\n");
        String e = err.lines().reduce("", (a, b) -> a + b + "\n");
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        return new Result(p.exitValue(), o, e);
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
        to.toFile().setExecutable(from.toFile().canExecute());
    }

    /** A jar whose main prints its arguments and whether the Vector API module is there, and exits 7. */
    private Path standInJar(Path at) throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("StandIn.java"), """
                public class StandIn {
                    public static void main(String[] args) {
                        System.out.println("stand-in " + String.join(" ", args) + " vector="
                                + ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
                        System.err.println("stand-in stderr");
                        System.exit(7);
                    }
                }
                """);
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null,
                "-d", src.toString(), src.resolve("StandIn.java").toString()));
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "StandIn");
        Files.createDirectories(at.getParent());
        try (OutputStream os = Files.newOutputStream(at); JarOutputStream jar = new JarOutputStream(os, m)) {
            jar.putNextEntry(new JarEntry("StandIn.class"));
            jar.write(Files.readAllBytes(src.resolve("StandIn.class")));
            jar.closeEntry();
        }
        return at;
    }

    @Test
    void installsUnderThePrefixAndTheLauncherRunsFromThere() throws Exception {
        Path repo = tmp.resolve("repo");
        for (String f : List.of("scripts/install", "scripts/java-home", "scripts/jvm-options", "scripts/llamux",
                "scripts/llamuxd", "systemd/llamuxd.service", "systemd/llamuxd.conf",
                "systemd/modules-load.d/llamux.conf", "systemd/modprobe.d/llamux.conf", "README.md",
                "kmod/llamux.c", "kmod/llamux_uapi.h", "kmod/Kbuild", "kmod/Makefile", "kmod/dkms.conf")) {
            copy(Path.of(f), repo.resolve(f));
        }
        standInJar(repo.resolve("target/llamux.jar"));
        Path stage = tmp.resolve("stage");
        Map<String, String> env = Map.of("DESTDIR", stage.toString(), "PREFIX", "/usr/local");

        Result install = sh(repo, env, "sh", "scripts/install", "install");
        assertEquals(0, install.exit(), install.out() + install.err());
        Path local = stage.resolve("usr/local");
        for (String f : List.of("bin/llamux", "bin/llamuxd", "lib/llamux/llamux.jar", "lib/llamux/java-home",
                "lib/llamux/jvm-options", "share/doc/llamux/README.md", "lib/systemd/system/llamuxd.service")) {
            assertTrue(Files.exists(local.resolve(f)), f + " not installed under /usr/local: " + install.out());
        }
        assertFalse(Files.exists(stage.resolve("usr/bin")), "nothing in /usr/bin with PREFIX=/usr/local");
        assertFalse(Files.exists(stage.resolve("lib/systemd")), "the unit goes under the prefix");
        String unit = Files.readString(local.resolve("lib/systemd/system/llamuxd.service"));
        assertTrue(unit.contains("\nExecStart=/usr/local/bin/llamuxd "), unit);
        assertTrue(unit.contains("file:/usr/local/share/doc/llamux/README.md"), unit);
        assertFalse(unit.contains("/usr/bin/"), unit);

        // The installed launcher, from elsewhere: the prefix's jar, JDK and JVM options.
        Result run = sh(tmp, Map.of(), local.resolve("bin/llamux").toString(), "info", "x y");
        assertEquals(7, run.exit(), run.err());
        assertEquals("stand-in info x y vector=true\n", run.out());
        assertEquals("stand-in stderr\n", run.err(), "the JDK's incubator warning is filtered out");
        Result kept = sh(tmp, Map.of("LLAMUX_KEEP_JVM_WARNING", "1"), local.resolve("bin/llamux").toString());
        assertTrue(kept.err().startsWith("WARNING: Using incubator modules: jdk.incubator.vector\n"), kept.err());
        Result daemon = sh(tmp, Map.of(), local.resolve("bin/llamuxd").toString(), "--help");
        assertEquals("stand-in daemon --help vector=true\n", daemon.out());

        Result uninstall = sh(repo, env, "sh", "scripts/install", "uninstall");
        assertEquals(0, uninstall.exit(), uninstall.out() + uninstall.err());
        for (String f : List.of("bin/llamux", "bin/llamuxd", "lib/llamux", "lib/systemd/system/llamuxd.service")) {
            assertFalse(Files.exists(local.resolve(f)), f + " left after uninstall");
        }
    }

    @Test
    void withoutJdk25TheLauncherSaysHowToGetOne() throws Exception {
        Path repo = tmp.resolve("nojdk");
        Path jdk17 = onlyJdk17(repo);
        Result r = sh(repo, Map.of("JAVA_HOME", jdk17.toString()), "env", "-u", "LLAMUX_JAVA_HOME",
                "sh", "scripts/java-home");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals("", r.out());
        assertTrue(r.err().contains("no JDK 25 or newer found"), r.err());
        assertTrue(r.err().contains("found only: " + jdk17 + " (Java 17)"), r.err());
        assertTrue(r.err().contains("apt-get install temurin-25-jdk"), r.err());
    }

    @Test
    void withoutJdk25InstallRefusesAndSaysHowToGetOne() throws Exception {
        Path repo = tmp.resolve("nojdk-install");
        Path jdk17 = onlyJdk17(repo);
        copy(Path.of("scripts/install"), repo.resolve("scripts/install"));
        copy(Path.of("kmod/dkms.conf"), repo.resolve("kmod/dkms.conf"));
        standInJar(repo.resolve("target/llamux.jar"));
        Path prefix = tmp.resolve("prefix");
        // Not staged (no DESTDIR): a real install, which must stop before it writes anything.
        // install(1) is shadowed by one that only leaves a mark, so that if the check were
        // gone this test would fail without touching the machine.
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path mark = tmp.resolve("install-ran");
        Path fake = Files.writeString(bin.resolve("install"), "#!/bin/sh\ntouch " + mark + "\nexit 1\n");
        fake.toFile().setExecutable(true);
        Map<String, String> env = Map.of("JAVA_HOME", jdk17.toString(), "PREFIX", prefix.toString(),
                "PATH", bin + ":" + System.getenv("PATH"));
        Result r = sh(repo, env, "env", "-u", "LLAMUX_JAVA_HOME", "-u", "DESTDIR", "sh", "scripts/install", "install");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("install: no JDK 25 or newer found"), r.err());
        assertTrue(r.err().contains("apt-get install temurin-25-jdk"), r.err());
        assertFalse(Files.exists(mark) || Files.exists(prefix), "nothing installed without a JDK 25: " + r.out());
    }

    /** A copy of scripts/java-home under {@code repo} that looks only where a "JDK 17" is. */
    private Path onlyJdk17(Path repo) throws IOException {
        copy(Path.of("scripts/java-home"), repo.resolve("scripts/java-home"));
        Path jdk17 = Files.createDirectories(repo.resolve("jvm/java-17"));
        Files.createDirectories(jdk17.resolve("bin"));
        Path fakeJava = Files.writeString(jdk17.resolve("bin/java"), "#!/bin/sh\nexit 1\n");
        fakeJava.toFile().setExecutable(true);
        Files.writeString(jdk17.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
        String script = Files.readString(repo.resolve("scripts/java-home"))
                .replace("/usr/lib/jvm", repo.resolve("jvm").toString()).replace("/opt/java/openjdk", "/nonexistent");
        Files.writeString(repo.resolve("scripts/java-home"), script);
        return jdk17;
    }
}
