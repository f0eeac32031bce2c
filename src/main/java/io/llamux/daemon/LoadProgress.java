package io.llamux.daemon;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The model copy's progress, for someone waiting on the daemon: a STATUS= line for systemd
 * ({@code systemctl status llamuxd} shows it while the unit is starting) and, when standard
 * error is a terminal, one line rewritten in place. At most one report a second, and always
 * the last one: bytes, percent and rate.
 */
public final class LoadProgress implements ModelMemory.Progress {
    private static final long EVERY_NANOS = 1_000_000_000L;

    private final Notifier notifier;
    private final PrintStream terminal;
    private final LongSupplier clock;
    private final long start;
    private long last;

    /**
     * @param terminal where the in-place line goes, or null for none
     * @param clock    nanoseconds ({@link System#nanoTime} outside tests)
     */
    LoadProgress(Notifier notifier, PrintStream terminal, LongSupplier clock) {
        this.notifier = notifier;
        this.terminal = terminal;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.last = start;
    }

    /** Reports to {@code notifier}, and to stderr when it is a terminal. */
    public static LoadProgress of(Notifier notifier) {
        return new LoadProgress(notifier, Posix.isatty(2) ? System.err : null, System::nanoTime);
    }

    @Override
    public void copied(long done, long total) {
        long now = clock.getAsLong();
        boolean end = done >= total;
        if (!end && now - last < EVERY_NANOS) {
            return;
        }
        last = now;
        String line = describe(done, total, now - start);
        notifier.status(line);
        if (terminal != null) {
            terminal.print("\r" + line + (end ? "\n" : ""));
            terminal.flush();
        }
    }

    /** "copying the model into memory: 512 of 1,024 MiB (50%), 850 MiB/s". */
    static String describe(long done, long total, long nanos) {
        double mib = done / 1048576.0;
        double rate = nanos > 0 ? mib / (nanos / 1e9) : 0;
        return String.format(Locale.ROOT, "copying the model into memory: %,.0f of %,.0f MiB (%d%%), %,.0f MiB/s",
                mib, total / 1048576.0, total > 0 ? (int) (100 * done / total) : 100, rate);
    }
}
