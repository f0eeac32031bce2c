package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * How Llamux computes with one ggml weight type: dequantize a row, and take the dot product of
 * a weight row with an activation vector that was converted to the type's partner format
 * ({@link #activationType()}), the way llama.cpp's CPU backend pairs them.
 *
 * <p>Rows are addressed by byte offset into a {@link MemorySegment} (normally the read-only
 * mapping of the GGUF file) and their length {@code n} in elements; {@code n} must be a whole
 * number of blocks ({@link GgmlType#blockSize}). Implementations are stateless and thread-safe,
 * and {@link #dot} does not allocate, so it can run in the forward pass's inner loop.
 */
public interface WeightFormat {

    /** The weight type. */
    GgmlType type();

    /**
     * The format the activations must be in for {@link #dot}: F32 for F32, F16 for F16, BF16 for
     * BF16, Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants.
     */
    GgmlType activationType();

    /** Writes the {@code n} weights starting at {@code byteOffset} as floats to {@code out[outOffset..]}. */
    void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n);

    /**
     * The dot product of the {@code n} weights at {@code wByteOffset} with the {@code n}
     * activations at {@code actByteOffset}, which are in {@link #activationType()} format
     * (see {@link Activations}).
     */
    float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n);

    /**
     * The same product as llama.cpp computes it inside a matmul over two or more activation
     * vectors (prompt processing). For F32/F16/BF16 llama.cpp then switches to llamafile's
     * tinyBLAS, which adds in a different order; for the quantized types it equals {@link #dot}.
     */
    default float dotForBatch(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        return dot(w, wByteOffset, act, actByteOffset, n);
    }

    /**
     * {@link #dotForBatch} of one weight row with {@code count} (1 to 4) activation vectors, the
     * t-th at {@code actByteOffset + t * actStride}, written to {@code y[yOff + t * yStride]}.
     * A format may override it to unpack each weight block once for all of them (prompt tiles);
     * every result must equal what {@link #dotForBatch} gives for its vector alone.
     */
    default void dotBatch(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, long actStride,
            int count, int n, float[] y, int yOff, int yStride) {
        for (int t = 0; t < count; t++) {
            y[yOff + t * yStride] = dotForBatch(w, wByteOffset, act, actByteOffset + t * actStride, n);
        }
    }

    /** Bytes taken by a row of {@code n} weights. */
    default long rowBytes(int n) {
        return type().bytesFor(n);
    }

    /** Elements per block. */
    default int blockSize() {
        return type().blockSize;
    }
}
