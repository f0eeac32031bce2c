package io.llamux.engine;

import java.time.Instant;

/**
 * One {@link Benchmark} test's figures, named as llama-bench's output fields are.
 *
 * @param modelFilename the GGUF file
 * @param modelType     llama-bench's style: architecture, size, file type ({@code llama 1B Q4_0})
 * @param modelSize     bytes of all tensors
 * @param modelParams   weights in all tensors
 * @param batch         prompt tokens per forward pass (llama.cpp's n_batch and n_ubatch)
 * @param threads       threads of the forward pass
 * @param test          what was run
 * @param testTime      when the test started
 * @param samplesNs     wall time of each repetition
 * @param loadNanos     the engine's load time: binding the mapped file, caches, threads
 * @param peakRssBytes  the process's peak resident memory after the test (VmHWM), 0 if unknown
 */
public record BenchResult(String modelFilename, String modelType, long modelSize, long modelParams, int batch,
                          int threads, Benchmark.Test test, Instant testTime, long[] samplesNs, long loadNanos,
                          long peakRssBytes) {

    /** Tokens per repetition: prompt plus generated. */
    public int tokens() {
        return test.nPrompt() + test.nGen();
    }

    public double[] samplesTs() {
        double[] ts = new double[samplesNs.length];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = tokens() * 1e9 / samplesNs[i];
        }
        return ts;
    }

    public long avgNs() {
        return Math.round(mean(toDouble(samplesNs)));
    }

    public long stddevNs() {
        return Math.round(stddev(toDouble(samplesNs)));
    }

    /** The mean of the per-repetition rates (llama-bench averages rates, not times). */
    public double avgTs() {
        return mean(samplesTs());
    }

    /** The sample standard deviation of the rates; 0 for one repetition. */
    public double stddevTs() {
        return stddev(samplesTs());
    }

    private static double[] toDouble(long[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static double mean(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v;
        }
        return a.length == 0 ? 0 : s / a.length;
    }

    private static double stddev(double[] a) {
        if (a.length < 2) {
            return 0;
        }
        double m = mean(a);
        double s = 0;
        for (double v : a) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / (a.length - 1));
    }
}
