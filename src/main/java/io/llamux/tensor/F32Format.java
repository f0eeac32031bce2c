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

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        int step = Simd.FL;
        FloatVector acc0 = FloatVector.zero(Simd.F);
        FloatVector acc1 = FloatVector.zero(Simd.F);
        int i = 0;
        for (; i + 2 * step <= n; i += 2 * step) {
            long o = (long) i * BYTES;
            acc0 = Simd.f32(w, wByteOffset + o).fma(Simd.f32(act, actByteOffset + o), acc0);
            acc1 = Simd.f32(w, wByteOffset + o + step * BYTES).fma(Simd.f32(act, actByteOffset + o + step * BYTES), acc1);
        }
        for (; i + step <= n; i += step) {
            long o = (long) i * BYTES;
            acc0 = Simd.f32(w, wByteOffset + o).fma(Simd.f32(act, actByteOffset + o), acc0);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; i < n; i++) {
            long o = (long) i * BYTES;
            sum += Mem.f32(w, wByteOffset + o) * Mem.f32(act, actByteOffset + o);
        }
        return sum;
    }
}
