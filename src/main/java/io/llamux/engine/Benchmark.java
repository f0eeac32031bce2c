package io.llamux.engine;

import io.llamux.gguf.GgufFile;
import io.llamux.model.Transformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;

/**
 * Speed tests as llama-bench runs them, on a loaded {@link Engine}. Every repetition starts
 * from an empty context and feeds random token ids (seed 1):
 * <ul>
 * <li>{@code pp N}: N prompt tokens, in batched forward passes of the engine's batch size;</li>
 * <li>{@code tg N}: N tokens one forward pass at a time (no sampling, as in llama-bench);</li>
 * <li>{@code pp N + tg M}: both, one after the other; its rate counts N + M tokens.</li>
 * </ul>
 * Before measuring, the test runs once and then again until {@code warmUpNanos} have passed:
 * llama-bench's single warm-up run is not enough for the JIT to compile the vector code.
 */
public final class Benchmark {
    /** One test: {@code nPrompt} prompt tokens then {@code nGen} generated ones (either may be 0). */
    public record Test(int nPrompt, int nGen) {
        public Test {
            if (nPrompt < 0 || nGen < 0 || nPrompt + nGen == 0) {
                throw new IllegalArgumentException("a test needs prompt or generated tokens: pp" + nPrompt + " tg" + nGen);
            }
        }

        /** llama-bench's name: {@code pp128}, {@code tg64}, {@code pp128+tg64}. */
        public String name() {
            return nGen == 0 ? "pp" + nPrompt : nPrompt == 0 ? "tg" + nGen : "pp" + nPrompt + "+tg" + nGen;
        }

        /** The context the test needs. */
        public int contextNeeded() {
            return nPrompt + nGen;
        }
    }

    private Benchmark() {
    }

    /**
     * Runs {@code test} on {@code engine} (loaded from {@code file} in {@code loadNanos}) and
     * collects llama-bench's figures.
     */
    public static BenchResult measure(GgufFile file, Engine engine, Test test, int repetitions, long warmUpNanos,
                                      long loadNanos) {
        Instant start = Instant.now();
        long[] ns = run(engine, test, repetitions, warmUpNanos);
        ModelInfo info = engine.info();
        return new BenchResult(file.source(), modelType(info), file.tensorBytes(), file.parameterCount(),
                engine.transformer().maxBatch(), info.threads(), test, start, ns, loadNanos, peakResidentBytes());
    }

    /** llama-bench's model_type: architecture, size class, file type, e.g. {@code llama 1B Q4_0}. */
    static String modelType(ModelInfo info) {
        long p = info.parameters();
        String size = p >= 1_000_000_000 ? Math.round(p / 1e9) + "B"
                : p >= 1_000_000 ? Math.round(p / 1e6) + "M" : Math.round(p / 1e3) + "K";
        return info.architecture() + " " + size + " " + info.weightType();
    }

    /** This process's peak resident set size (VmHWM in /proc/self/status), in bytes; 0 where there is none. */
    public static long peakResidentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /**
     * Runs {@code test} {@code repetitions} times after the warm-up.
     *
     * @return the wall time of each repetition in nanoseconds
     * @throws IllegalArgumentException when the test does not fit the engine's context
     */
    public static long[] run(Engine engine, Test test, int repetitions, long warmUpNanos) {
        if (repetitions < 1) {
            throw new IllegalArgumentException("repetitions must be at least 1: " + repetitions);
        }
        Transformer t = engine.transformer();
        if (test.contextNeeded() > t.contextSize()) {
            throw new IllegalArgumentException("the context (" + t.contextSize() + " tokens) is smaller than test "
                    + test.name() + " (" + test.contextNeeded() + " tokens)");
        }
        int[] tokens = new SplittableRandom(1).ints(test.contextNeeded(), 0, t.config().vocabSize()).toArray();
        synchronized (engine) {
            long warmUntil = System.nanoTime() + warmUpNanos;
            do {
                once(t, tokens, test);
            } while (System.nanoTime() < warmUntil);
            long[] ns = new long[repetitions];
            for (int i = 0; i < repetitions; i++) {
                long t0 = System.nanoTime();
                once(t, tokens, test);
                ns[i] = System.nanoTime() - t0;
            }
            return ns;
        }
    }

    private static void once(Transformer t, int[] tokens, Test test) {
        if (test.nPrompt() > 0) {
            t.forward(tokens, 0, test.nPrompt(), 0, false); // in passes of the batch size
        }
        for (int i = 0; i < test.nGen(); i++) {
            int pos = test.nPrompt() + i;
            t.forward(tokens, pos, 1, pos, false);
        }
    }
}
