package io.llamux.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Logback set up for a service: one line per event on stdout. Under systemd
 * ($JOURNAL_STREAM set) each line starts with its syslog priority, {@code <6>} for INFO,
 * which journald strips and stores as the entry's level, so {@code journalctl -p warning}
 * works; timestamps are left to the journal. Elsewhere lines carry a time instead.
 * Configured in code rather than by a logback.xml so the CLI's own output stays untouched.
 */
public final class DaemonLogging {
    private DaemonLogging() {
    }

    public static void configure(Level level) {
        configure(level, System.getenv("JOURNAL_STREAM") != null);
    }

    static void configure(Level level, boolean journal) {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        LineLayout layout = new LineLayout(journal);
        layout.setContext(ctx);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(ctx);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
        out.setContext(ctx);
        out.setName("stdout");
        out.setEncoder(encoder);
        out.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(level);
        root.addAppender(out);
    }

    /** "<6>INFO RequestLoop: text" for the journal, "HH:mm:ss.SSS INFO RequestLoop: text" elsewhere. */
    static final class LineLayout extends LayoutBase<ILoggingEvent> {
        private final boolean journal;

        LineLayout(boolean journal) {
            this.journal = journal;
        }

        @Override
        public String doLayout(ILoggingEvent e) {
            StringBuilder s = new StringBuilder(128);
            if (journal) {
                s.append('<').append(syslogPriority(e.getLevel())).append('>');
            } else {
                s.append(java.time.LocalTime.ofInstant(e.getInstant(), java.time.ZoneId.systemDefault())
                        .truncatedTo(java.time.temporal.ChronoUnit.MILLIS)).append(' ');
            }
            String logger = e.getLoggerName();
            s.append(e.getLevel()).append(' ').append(logger.substring(logger.lastIndexOf('.') + 1)).append(": ")
                    .append(e.getFormattedMessage());
            if (e.getThrowableProxy() != null) {
                // Continuation lines of a stack trace keep the entry's priority in the journal.
                String trace = ThrowableProxyUtil.asString(e.getThrowableProxy());
                String prefix = journal ? "<" + syslogPriority(e.getLevel()) + ">    " : "    ";
                for (String line : trace.split("\n")) s.append(CoreConstants.LINE_SEPARATOR).append(prefix).append(line.strip());
            }
            return s.append(CoreConstants.LINE_SEPARATOR).toString();
        }

        static int syslogPriority(Level level) {
            return switch (level.toInt()) {
                case Level.ERROR_INT -> 3;
                case Level.WARN_INT -> 4;
                case Level.INFO_INT -> 6;
                default -> 7;
            };
        }
    }
}
