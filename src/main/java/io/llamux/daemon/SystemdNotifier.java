package io.llamux.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: one datagram per message to the unix socket named by
 * $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Java's own channels cannot
 * send unix datagrams, hence {@link Posix}. Failures are logged once and never stop the daemon.
 */
public final class SystemdNotifier implements Notifier {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

    private final String socketPath;
    private final int fd;
    private boolean warned;

    private SystemdNotifier(String socketPath, int fd) {
        this.socketPath = socketPath;
        this.fd = fd;
    }

    /** A notifier for $NOTIFY_SOCKET, or {@link Notifier#NONE} when not started by systemd. */
    public static Notifier fromEnvironment() {
        return forSocket(System.getenv("NOTIFY_SOCKET"));
    }

    static Notifier forSocket(String path) {
        if (path == null || path.isEmpty()) return NONE;
        if (!path.startsWith("/") && !path.startsWith("@")) {
            log.warn("NOTIFY_SOCKET={} is neither a path nor an abstract name; not notifying systemd", path);
            return NONE;
        }
        try {
            return new SystemdNotifier(path, Posix.socket(Posix.AF_UNIX, Posix.SOCK_DGRAM | Posix.SOCK_CLOEXEC));
        } catch (Posix.ErrnoException e) {
            log.warn("cannot notify systemd: {}", e.getMessage());
            return NONE;
        }
    }

    @Override
    public synchronized void notify(String state) {
        try {
            Posix.sendToUnix(fd, state.getBytes(StandardCharsets.UTF_8), socketPath);
        } catch (Posix.ErrnoException | IllegalArgumentException e) {
            if (!warned) log.warn("cannot notify systemd at {}: {}", socketPath, e.getMessage());
            warned = true;
        }
    }
}
