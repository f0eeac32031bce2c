package io.llamux.daemon;

/** Where the daemon reports readiness and status (systemd's sd_notify protocol, or nowhere). */
@FunctionalInterface
public interface Notifier {
    /** Sends newline-separated assignments, e.g. "READY=1\nSTATUS=loaded". Never throws. */
    void notify(String state);

    Notifier NONE = state -> { };

    default void status(String line) {
        notify("STATUS=" + line.replace('\n', ' '));
    }
}
