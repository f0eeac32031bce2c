package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.engine.StopReason;

import java.util.Locale;

/** Counters for /proc/llamux/status and systemd's STATUS=; thread-safe. */
final class DaemonStats {
    private final long startNanos = System.nanoTime();
    private long served, failed, cancelled, generatedTotal;
    private double generationSecondsTotal;
    private GenerationResult last;

    synchronized void finished(GenerationResult r) {
        served++;
        if (r.stopReason() == StopReason.CANCELLED) cancelled++;
        generatedTotal += r.generatedTokens();
        if (r.generatedTokens() > 0 && r.generatedTokensPerSecond() > 0) {
            generationSecondsTotal += r.generatedTokens() / r.generatedTokensPerSecond();
        }
        last = r;
    }

    synchronized void failed() {
        failed++;
    }

    synchronized long served() {
        return served;
    }

    synchronized long failedCount() {
        return failed;
    }

    /**
     * Lines for the status file: totals and speeds only. Every user can read /proc/llamux/status,
     * so nothing here may describe one request (no ids, uids or per-request counts).
     */
    synchronized String describe(int waiting, boolean busy) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "uptime: %d s%n", (System.nanoTime() - startNanos) / 1_000_000_000L));
        s.append(String.format(Locale.ROOT, "requests: %d served (%d cancelled), %d failed, %d waiting in the daemon%n",
                served, cancelled, failed, waiting));
        s.append("busy: ").append(busy ? "answering" : "idle").append('\n');
        if (generationSecondsTotal > 0) {
            s.append(String.format(Locale.ROOT, "generated: %d tokens, %.1f tok/s on average%n",
                    generatedTotal, generatedTotal / generationSecondsTotal));
        }
        return s.toString();
    }

    /** One line for systemd's STATUS=. */
    synchronized String summary() {
        String speed = last == null ? "" : String.format(Locale.ROOT, ", last %.1f tok/s", last.generatedTokensPerSecond());
        return "serving /dev/llamux: " + served + " requests served, " + failed + " failed" + speed;
    }
}
