package io.llamux.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code llamux}: the command line tool. Each subcommand is its own class; to add one, add it
 * to {@code subcommands} below.
 *
 * <p>Errors are one line on stderr, {@code llamux: <message>} ({@link #report}), with
 * exit code 1 (2 for a usage mistake, which also gets a hint). Commands do not catch failures
 * of their input: they throw, and the handler here prints them. Set {@code LLAMUX_DEBUG=1} to
 * see stack traces.
 */
@Command(name = "llamux", mixinStandardHelpOptions = true, version = "llamux 0.1.0",
        description = "Large language models from GGUF files, on the CPU.",
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n",
        footer = {"", "Run 'llamux COMMAND --help' for the options of a command.",
            "Environment: LLAMUX_MODEL (default model file), LLAMUX_DEBUG=1 (stack traces on errors)."},
        subcommands = {
            InfoCommand.class,
            TokenizeCommand.class,
            ChatTemplateCommand.class,
            RunCommand.class,
            PerplexityCommand.class,
            BenchCommand.class,
            DaemonCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        StandardError.restore();
        // A thread that dies (a worker out of memory, say) gets one line too, not a stack trace.
        Thread.setDefaultUncaughtExceptionHandler((thread, t) ->
                report(new PrintWriter(System.err, true), "llamux: in thread " + thread.getName(), t));
        int code;
        try {
            code = commandLine().execute(args);
        } catch (Throwable t) { // OutOfMemoryError and the like: picocli passes only Exceptions to the handler
            PrintWriter err = new PrintWriter(System.err, true);
            report(err, "llamux", t);
            code = 1;
        }
        System.exit(code);
    }

    /** The configured command line (tests call {@code execute} on it with their own out/err writers). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setExecutionExceptionHandler((ex, cmd, parseResult) -> {
                    report(cmd.getErr(), ex);
                    return 1;
                })
                .setParameterExceptionHandler((ex, args) -> {
                    CommandLine cmd = ex.getCommandLine();
                    PrintWriter err = cmd.getErr();
                    err.println("llamux: " + ex.getMessage());
                    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
                    err.flush();
                    return 2;
                });
    }

    static boolean debug() {
        return "1".equals(System.getenv("LLAMUX_DEBUG"));
    }

    /**
     * The one place a CLI failure is printed: one line, {@code <prefix>: <what is wrong>}, on
     * {@code err}. A failure of the input (a file missing, unreadable, not GGUF, damaged or of a
     * kind not supported) is the message alone; anything else is a bug, printed as "internal
     * error" with its class. The stack trace only with LLAMUX_DEBUG=1.
     */
    static void report(PrintWriter err, String prefix, Throwable ex) {
        if (debug()) {
            ex.printStackTrace(err);
        }
        Throwable cause = ex instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : ex;
        err.println(prefix + ": " + (expected(cause) ? message(cause) : describeBug(cause)));
        err.flush();
    }

    /** {@link #report} with the command name "llamux". */
    static void report(PrintWriter err, Exception ex) {
        report(err, "llamux", ex);
    }

    /** A failure that says something about the input, not about Llamux. */
    static boolean expected(Throwable ex) {
        return ex instanceof IOException || ex instanceof IllegalArgumentException
                || ex instanceof UnsupportedOperationException;
    }

    private static String describeBug(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            return "out of memory: " + ex.getMessage() + " (a smaller -c, or more heap with LLAMUX_JAVA_OPTS=-Xmx...)";
        }
        return "internal error: " + ex + (debug() ? "" : " (run with LLAMUX_DEBUG=1 for details)");
    }

    /** The user-facing text of an expected failure; the JDK's file errors carry only the path. */
    static String message(Throwable ex) {
        if (ex instanceof UncheckedIOException u && u.getCause() != null) {
            return message(u.getCause());
        }
        if (ex instanceof NoSuchFileException e) {
            return e.getFile() + ": no such file";
        }
        if (ex instanceof AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (ex instanceof NotDirectoryException e) {
            return e.getFile() + ": not a directory";
        }
        if (ex instanceof FileSystemException e && e.getFile() != null) {
            return e.getFile() + ": " + (e.getReason() != null ? e.getReason().toLowerCase(java.util.Locale.ROOT) : "cannot be read");
        }
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
    }
}
