package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * F32: plain little-endian floats, 4 bytes each. Activations stay F32; the dot product is a
 * float FMA accumulation (two vector accumulators, then a scalar tail), like ggml_vec_dot_f32.
 */
final class F32Format implements WeightFormat {

    static final int BYTES = 4;

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.F32;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        MemorySegment.copy(w, Mem.F32, byteOffset, out, outOffset, n);
    }

    /**
     * ggml_vec_dot_f32's AVX2 order (the single-token path): four 8-lane FMA accumulators over steps of 32, reduced as GGML_F32x8_REDUCE, tail in float.
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
            FloatVector next = Simd.f32x8(w, wByteOffset + o).fma(Simd.f32x8(act, actByteOffset + o), s0);
            s0 = s1;
            s1 = s2;
            s2 = s3;
            s3 = next;
        }
        // GGML_F32x8_REDUCE, then the tail in float (a*b+c, which the C compiler contracts to FMA).
        float sum = Simd.hadd8(s0.add(s2).add(s1.add(s3)));
        for (int i = np; i < n; i++) {
            long o = (long) i * BYTES;
            sum = Math.fma(Mem.f32(w, wByteOffset + o), Mem.f32(act, actByteOffset + o), sum);
        }
        return sum;
    }

    /** llamafile's tinyBLAS order ({@link Simd#tinyBlasDot}) when n is a multiple of 8. */
    @Override
    public float dotForBatch(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        if (n % 8 != 0) {
            return dot(w, wByteOffset, act, actByteOffset, n);
        }
        return Simd.tinyBlasDot(Simd.F32_ELEMENTS, BYTES, w, wByteOffset, act, actByteOffset, n);
    }
}
