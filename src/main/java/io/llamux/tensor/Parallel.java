package io.llamux.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a row range over a shared ForkJoinPool. Threads: {@code -Dllamux.threads=N}, default
 * the number of available processors. With one thread, or few rows, the body runs inline.
 */
public final class Parallel {

    /** Work on the half-open row range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** Rows below this are not worth a task of their own. */
    public static final int MIN_CHUNK = 16;

    private static final int THREADS = Math.max(1,
            Integer.getInteger("llamux.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;

    private Parallel() {
    }

    /** The number of threads work is split over. */
    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body} over [0, rows), split into about 4 chunks per thread. */
    public static void rows(int rows, RangeBody body) {
        rows(rows, MIN_CHUNK, body);
    }

    /** Runs {@code body} over [0, rows) in chunks of at least {@code minChunk} rows. */
    public static void rows(int rows, int minChunk, RangeBody body) {
        int chunk = Math.max(minChunk, (rows + 4 * THREADS - 1) / (4 * THREADS));
        if (POOL == null || rows <= chunk) {
            body.run(0, rows);
            return;
        }
        POOL.invoke(new Split(body, 0, rows, chunk));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int start;
        private final int end;
        private final int chunk;

        Split(RangeBody body, int start, int end, int chunk) {
            this.body = body;
            this.start = start;
            this.end = end;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (end - start <= chunk) {
                body.run(start, end);
                return;
            }
            int mid = start + (end - start) / 2;
            invokeAll(new Split(body, start, mid, chunk), new Split(body, mid, end, chunk));
        }
    }
}
