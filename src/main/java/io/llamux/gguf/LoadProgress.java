package io.llamux.gguf;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A model load's progress, for someone waiting on it: the daemon's huge-page copy, the CLI's
 * read of a mapped file. At most one report a second, and always the last one: bytes, percent
 * and rate, to a status sink (the daemon's STATUS= lines) and to a terminal as one line
 * rewritten in place. The caller decides whether there is a terminal: scripts and tests,
 * whose standard error is not one, must see nothing of this.
 */
public final class LoadProgress {
    private static final long EVERY_NANOS = 1_000_000_000L;

    private final String action;
    private final Consumer<String> status;
    private final PrintWriter terminal;
    private final LongSupplier clock;
    private final long start;
    private long last;

    /**
     * @param action   what is being done, the start of every line ("copying the model into memory")
     * @param status   where each report goes as a line, or null for nowhere
     * @param terminal where the in-place line goes, or null for none
     * @param clock    nanoseconds ({@link System#nanoTime} outside tests)
     */
    LoadProgress(String action, Consumer<String> status, PrintWriter terminal, LongSupplier clock) {
        this.action = action;
        this.status = status;
        this.terminal = terminal;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.last = start;
    }

    /** Progress from now on: see {@link #LoadProgress(String, Consumer, PrintWriter, LongSupplier)}. */
    public static LoadProgress of(String action, Consumer<String> status, PrintWriter terminal) {
        return new LoadProgress(action, status, terminal, System::nanoTime);
    }

    /** {@code done} of {@code total} bytes are there. */
    public void advanced(long done, long total) {
        long now = clock.getAsLong();
        boolean end = done >= total;
        if (!end && now - last < EVERY_NANOS) {
            return;
        }
        last = now;
        String line = describe(action, done, total, now - start);
        if (status != null) {
            status.accept(line);
        }
        if (terminal != null) {
            terminal.print("\r" + line + (end ? "\n" : ""));
            terminal.flush();
        }
    }

    /** "copying the model into memory: 512 of 1,024 MiB (50%), 850 MiB/s". */
    static String describe(String action, long done, long total, long nanos) {
        double mib = done / 1048576.0;
        double rate = nanos > 0 ? mib / (nanos / 1e9) : 0;
        return String.format(Locale.ROOT, "%s: %,.0f of %,.0f MiB (%d%%), %,.0f MiB/s",
                action, mib, total / 1048576.0, total > 0 ? (int) (100 * done / total) : 100, rate);
    }
}
