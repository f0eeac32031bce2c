package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * BF16: bfloat16 (the top half of a float), 2 bytes each. Activations are rounded to BF16
 * (nearest even) before the dot product, as llama.cpp does; both sides are widened exactly and
 * accumulated with float FMA (ggml_vec_dot_bf16).
 */
final class BF16Format implements WeightFormat {

    static final int BYTES = 2;

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.BF16;
    }

    static float get(MemorySegment s, long off) {
        return Float.intBitsToFloat(Mem.i16(s, off) << 16);
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        int i = 0;
        for (; i + Simd.FL <= n; i += Simd.FL) {
            Simd.bf16(w, byteOffset + (long) i * BYTES).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = get(w, byteOffset + (long) i * BYTES);
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        // One accumulator and one loop: each widening is a large inlined body, and C2 gives up
        // inlining (boxing every vector) when a method holds too many of them.
        int step = Simd.FL;
        FloatVector acc = FloatVector.zero(Simd.F);
        int i = 0;
        for (; i + step <= n; i += step) {
            long o = (long) i * BYTES;
            acc = Simd.bf16(w, wByteOffset + o).fma(Simd.bf16(act, actByteOffset + o), acc);
        }
        float sum = Simd.sum(acc);
        for (; i < n; i++) {
            long o = (long) i * BYTES;
            sum += get(w, wByteOffset + o) * get(act, actByteOffset + o);
        }
        return sum;
    }
}
