package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * An activation partner format (F32, F16, BF16, Q8_0, Q8_1, Q8_K): how a float vector is
 * converted before it meets a weight row in {@link WeightFormat#dot}, following llama.cpp's CPU
 * backend so that the products equal its own.
 */
public interface ActivationFormat {

    GgmlType type();

    /** Converts {@code x[off..off+n)} into this format at {@code dst + dstOffset}. */
    void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset);

    /** The floats that a converted vector stands for (for tests and references). */
    void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n);

    /** Bytes taken by {@code n} elements. */
    default long rowBytes(int n) {
        return type().bytesFor(n);
    }
}
