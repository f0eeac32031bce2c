package io.llamux.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Undoes the launcher's start-up filter on standard error. The JDK prints "WARNING: Using
 * incubator modules: jdk.incubator.vector" on every start and has no option against it, so
 * scripts/llamux starts the JVM with file descriptor 2 on a pipe that drops that one line,
 * and the real standard error on descriptor {@code -Dllamux.stderr.fd} (3). The first thing
 * {@link Main} does is to put the real one back on 2: from then on everything (errors, the
 * Ctrl-C summary, the JVM's own crash report) goes straight to it, unfiltered.
 */
final class StandardError {
    static final String PROPERTY = "llamux.stderr.fd";

    private StandardError() {
    }

    /** Moves the descriptor named by {@link #PROPERTY} onto 2; without the property, nothing. */
    static void restore() {
        String fd = System.getProperty(PROPERTY);
        if (fd == null) {
            return;
        }
        try {
            int from = Integer.parseInt(fd);
            Linker linker = Linker.nativeLinker();
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().find("dup2").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(from, 2) == 2) {
                int ignored = (int) close.invokeExact(from);
            }
        } catch (Throwable t) {
            // Standard error stays the filtered pipe, which still shows everything but that warning.
        }
    }
}
