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

    /**
     * ggml_vec_dot_bf16's AVX2 order (the single-token path): four 8-lane accumulators over steps of 32, (c1+c3)+(c2+c4), hsum_float_8, tail in double.
     */
    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        int np = n & ~31;
        FloatVector s0 = FloatVector.zero(Simd.A8);
        FloatVector s1 = FloatVector.zero(Simd.A8);
        FloatVector s2 = FloatVector.zero(Simd.A8);
        FloatVector s3 = FloatVector.zero(Simd.A8);
        // Steps of 8 go to s0, s1, s2, s3 in turn (ggml's four accumulators); rotating the roles
        // keeps one conversion call site, which C2 inlines (four copies it would not).
        for (int i = 0; i < np; i += 8) {
            long o = (long) i * BYTES;
            FloatVector next = Simd.bf16x8(w, wByteOffset + o).fma(Simd.bf16x8(act, actByteOffset + o), s0);
            s0 = s1;
            s1 = s2;
            s2 = s3;
            s3 = next;
        }
        // (c1+c3) + (c2+c4), hsum_float_8, then the tail in double (bf16 products are exact).
        double sum = Simd.hsum8(s0.add(s2).add(s1.add(s3)));
        for (int i = np; i < n; i++) {
            long o = (long) i * BYTES;
            sum += get(w, wByteOffset + o) * get(act, actByteOffset + o);
        }
        return (float) sum;
    }

    /** llamafile's tinyBLAS order ({@link Simd#tinyBlasDot}) when n is a multiple of 8. */
    @Override
    public float dotForBatch(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        if (n % 8 != 0) {
            return dot(w, wByteOffset, act, actByteOffset, n);
        }
        return Simd.tinyBlasDot(Simd.BF16_ELEMENTS, BYTES, w, wByteOffset, act, actByteOffset, n);
    }
}
