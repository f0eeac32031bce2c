package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Matrix times vector(s) over weight rows stored back to back (a ggml 2-D tensor: {@code rows}
 * rows of {@code n} elements, row r at {@code wOffset + r * rowBytes}). Single-threaded and
 * allocation-free; split rows over threads with {@link Parallel#rows} and the range variants.
 */
public final class MatVec {

    private MatVec() {
    }

    /** {@code out[outOffset + r] = row r . act} for r in [0, rows). */
    public static void matmul(WeightFormat f, MemorySegment w, long wOffset, int rows, int n,
                              MemorySegment act, long actOffset, float[] out, int outOffset) {
        matmulRange(f, w, wOffset, 0, rows, n, act, actOffset, out, outOffset);
    }

    /** {@link #matmul} with the activation at offset 0 of {@code act} and output from {@code out[0]}. */
    public static void matmul(WeightFormat f, MemorySegment w, long wOffset, int rows, int n,
                              MemorySegment act, float[] out) {
        matmulRange(f, w, wOffset, 0, rows, n, act, 0, out, 0);
    }

    /** {@code out[outOffset + r] = row r . act} for r in [rowStart, rowEnd). */
    public static void matmulRange(WeightFormat f, MemorySegment w, long wOffset, int rowStart, int rowEnd, int n,
                                   MemorySegment act, long actOffset, float[] out, int outOffset) {
        long rowBytes = f.rowBytes(n);
        for (int r = rowStart; r < rowEnd; r++) {
            out[outOffset + r] = f.dot(w, wOffset + r * rowBytes, act, actOffset, n);
        }
    }

    /**
     * Several activation vectors against the same rows, for prompt processing: vector b is at
     * {@code actOffset + b * actStride}, and {@code out[outOffset + b * outStride + r] = row r .
     * vector b} for r in [rowStart, rowEnd). The weight rows are the outer loop, so each row is
     * read from memory once per call while it sits in cache for the whole batch. With two or
     * more vectors each product is {@link WeightFormat#dotForBatch}, as in llama.cpp.
     */
    public static void matmulBatch(WeightFormat f, MemorySegment w, long wOffset, int rowStart, int rowEnd, int n,
                                   MemorySegment acts, long actOffset, long actStride, int batch,
                                   float[] out, int outOffset, int outStride) {
        long rowBytes = f.rowBytes(n);
        for (int r = rowStart; r < rowEnd; r++) {
            long row = wOffset + r * rowBytes;
            for (int b = 0; b < batch; b++) {
                long a = actOffset + b * actStride;
                // llama.cpp sums in another order when it multiplies 2+ vectors at once.
                out[outOffset + b * outStride + r] = batch > 1 ? f.dotForBatch(w, row, acts, a, n) : f.dot(w, row, acts, a, n);
            }
        }
    }

    /** {@link #matmulBatch} over all rows of {@code acts}' first {@code batch} vectors; out is batch x rows. */
    public static void matmulBatch(WeightFormat f, MemorySegment w, long wOffset, int rows, int n,
                                   Activations acts, int batch, float[] out) {
        matmulBatch(f, w, wOffset, 0, rows, n, acts.segment(), 0, acts.rowBytes(), batch, out, 0, rows);
    }

    /** {@link #matmul} with the rows split over {@link Parallel}'s threads. */
    public static void matmulParallel(WeightFormat f, MemorySegment w, long wOffset, int rows, int n,
                                      MemorySegment act, long actOffset, float[] out, int outOffset) {
        Parallel.rows(rows, (start, end) -> matmulRange(f, w, wOffset, start, end, n, act, actOffset, out, outOffset));
    }
}
