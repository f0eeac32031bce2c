package io.llamux.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plays systemd: binds a unix datagram socket and reads what the daemon sends to it. */
class SystemdNotifierTest {
    @TempDir
    Path dir;

    private static String receive(int fd) throws Exception {
        assertTrue((Posix.pollOne(fd, Posix.POLLIN, 2000) & Posix.POLLIN) != 0, "a datagram arrived");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            long n = Posix.read(fd, buf, buf.byteSize());
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    private void roundTrip(String address) throws Exception {
        int fd = Posix.socket(Posix.AF_UNIX, Posix.SOCK_DGRAM | Posix.SOCK_CLOEXEC);
        try {
            Posix.bindUnix(fd, address);
            Notifier n = SystemdNotifier.forSocket(address);
            n.notify("READY=1\nSTATUS=model loaded");
            n.status("serving\n3 requests");
            assertEquals("READY=1\nSTATUS=model loaded", receive(fd));
            assertEquals("STATUS=serving 3 requests", receive(fd));
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void notifiesAFilesystemSocket() throws Exception {
        roundTrip(dir.resolve("notify").toString());
    }

    @Test
    void notifiesAnAbstractSocket() throws Exception {
        roundTrip("@llamux-test-" + ProcessHandle.current().pid());
    }

    @Test
    void withoutSystemdNothingIsSent() {
        assertSame(Notifier.NONE, SystemdNotifier.forSocket(null));
        assertSame(Notifier.NONE, SystemdNotifier.forSocket(""));
        assertSame(Notifier.NONE, SystemdNotifier.forSocket("relative/path"));
    }

    @Test
    void aVanishedSocketDoesNotStopTheDaemon() {
        Notifier n = SystemdNotifier.forSocket(dir.resolve("nobody-listens").toString());
        n.notify("READY=1");
        n.notify("STATUS=still fine");
    }
}
