package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.engine.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /proc/llamux/status is readable by every user: the daemon's part shows totals only. */
class DaemonStatsTest {
    @Test
    void statusShowsTotalsAndNoOneRequest() {
        DaemonStats stats = new DaemonStats();
        stats.finished(new GenerationResult(17, 123, StopReason.LENGTH, 50.0, 10.0));
        stats.finished(new GenerationResult(5, 77, StopReason.CANCELLED, 50.0, 10.0));
        String text = stats.describe(2, true);
        assertTrue(text.contains("requests: 2 served (1 cancelled), 0 failed, 2 waiting in the daemon\n"), text);
        assertTrue(text.contains("busy: answering\n"), text);
        assertTrue(text.contains("generated: 200 tokens, 10.0 tok/s on average\n"), text);
        assertFalse(text.contains("17"), "one request's prompt tokens: " + text);
        assertFalse(text.contains("77"), "one request's generated tokens: " + text);
        assertFalse(text.contains("uid"), text);
        assertFalse(text.contains("last"), text);
        assertTrue(new DaemonStats().describe(0, false).contains("busy: idle\n"));
    }
}
