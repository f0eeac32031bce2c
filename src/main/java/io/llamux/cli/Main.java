package io.llamux.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
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
 * <p>Errors are one line on stderr, {@code llamux: <message>}, with exit code 1 (2 for a
 * usage mistake, which also gets a hint). Set {@code LLAMUX_DEBUG=1} to see stack traces.
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
        System.exit(commandLine().execute(args));
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

    /** Prints one line about a failure; the stack trace too when LLAMUX_DEBUG=1 or the failure is a bug. */
    static void report(PrintWriter err, Exception ex) {
        boolean expected = ex instanceof IOException || ex instanceof IllegalArgumentException;
        if (debug()) {
            ex.printStackTrace(err);
        }
        err.println("llamux: " + (expected ? message(ex) : "internal error: " + ex
                + (debug() ? "" : " (run with LLAMUX_DEBUG=1 for details)")));
        err.flush();
    }

    /** The user-facing text of an expected failure; the JDK's file errors carry only the path. */
    static String message(Exception ex) {
        if (ex instanceof NoSuchFileException e) {
            return e.getFile() + ": no such file";
        }
        if (ex instanceof AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (ex instanceof NotDirectoryException e) {
            return e.getFile() + ": not a directory";
        }
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
    }
}
