package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * F16: IEEE halves, 2 bytes each. Activations are rounded to F16 (nearest even) before the
 * dot product, as llama.cpp does; both sides are widened exactly and accumulated with float FMA
 * (ggml_vec_dot_f16).
 */
final class F16Format implements WeightFormat {

    static final int BYTES = 2;

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.F16;
    }

    static float get(MemorySegment s, long off) {
        return Float.float16ToFloat(Mem.i16(s, off));
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        int i = 0;
        for (; i + Simd.FL <= n; i += Simd.FL) {
            Simd.f16(w, byteOffset + (long) i * BYTES).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = get(w, byteOffset + (long) i * BYTES);
        }
    }

    /**
     * ggml_vec_dot_f16's AVX2 order (the single-token path): four 8-lane FMA accumulators over steps of 32, reduced as GGML_F32x8_REDUCE, tail in double.
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
            FloatVector next = Simd.f16x8(w, wByteOffset + o).fma(Simd.f16x8(act, actByteOffset + o), s0);
            s0 = s1;
            s1 = s2;
            s2 = s3;
            s3 = next;
        }
        // GGML_F32x8_REDUCE, then the tail in double (the products of halves are exact in float).
        double sum = Simd.hadd8(s0.add(s2).add(s1.add(s3)));
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
        return Simd.tinyBlasDot(Simd.F16_ELEMENTS, BYTES, w, wByteOffset, act, actByteOffset, n);
    }
}
