package io.llamux.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonLoggingTest {
    private static LoggingEvent event(Level level, String msg, Throwable t) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        return new LoggingEvent(DaemonLoggingTest.class.getName(), ctx.getLogger("io.llamux.daemon.RequestLoop"),
                level, msg, t, new Object[]{42});
    }

    @Test
    void journalLinesCarryTheSyslogPriority() {
        var layout = new DaemonLogging.LineLayout(true);
        assertEquals("<6>INFO RequestLoop: request 42 served\n", layout.doLayout(event(Level.INFO, "request {} served", null)));
        assertEquals("<4>WARN RequestLoop: x 42\n", layout.doLayout(event(Level.WARN, "x {}", null)));
        assertEquals("<7>DEBUG RequestLoop: x\n", layout.doLayout(event(Level.DEBUG, "x", null)));
        String error = layout.doLayout(event(Level.ERROR, "failed", new IllegalStateException("why")));
        assertTrue(error.startsWith("<3>ERROR RequestLoop: failed\n<3>    java.lang.IllegalStateException: why\n<3>    at "), error);
    }

    @Test
    void terminalLinesCarryATime() {
        String line = new DaemonLogging.LineLayout(false).doLayout(event(Level.INFO, "hello", null));
        assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d(\\.\\d+)? INFO RequestLoop: hello\n"), line);
    }
}
