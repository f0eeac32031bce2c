package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

/**
 * Attention's score against an F16 key row, for a query head that was rounded to halves once
 * and widened back to floats: {@link F16Format#dot} with the query's halves already widened
 * (widening is exact), so the same FMAs in the same order give the same bits, without widening
 * the query again for every position of the cache.
 */
public final class HalfKeys {

    private HalfKeys() {
    }

    /** Rounds {@code x[off..off+n)} to halves (nearest even, as llama.cpp) and widens them into {@code out}. */
    public static void roundToHalves(float[] x, int off, int n, float[] out) {
        for (int i = 0; i < n; i++) {
            out[i] = Float.float16ToFloat(Float.floatToFloat16(x[off + i]));
        }
    }

    /** {@link #dot} of a key row already widened to {@code k[0..n)}: the same FMAs, the same bits. */
    public static float dotWidened(float[] k, float[] q, int n) {
        int np = n & ~31;
        FloatVector s0 = FloatVector.zero(Simd.A8);
        FloatVector s1 = FloatVector.zero(Simd.A8);
        FloatVector s2 = FloatVector.zero(Simd.A8);
        FloatVector s3 = FloatVector.zero(Simd.A8);
        for (int i = 0; i < np; i += 8) {
            FloatVector next = FloatVector.fromArray(Simd.A8, k, i).fma(FloatVector.fromArray(Simd.A8, q, i), s0);
            s0 = s1;
            s1 = s2;
            s2 = s3;
            s3 = next;
        }
        double sum = Simd.hadd8(s0.add(s2).add(s1.add(s3)));
        for (int i = np; i < n; i++) {
            sum += k[i] * q[i];
        }
        return (float) sum;
    }

    /** ggml_vec_dot_f16 of the halves at {@code k + kOff} and the widened halves {@code q[0..n)}. */
    public static float dot(MemorySegment k, long kOff, float[] q, int n) {
        int np = n & ~31;
        FloatVector s0 = FloatVector.zero(Simd.A8);
        FloatVector s1 = FloatVector.zero(Simd.A8);
        FloatVector s2 = FloatVector.zero(Simd.A8);
        FloatVector s3 = FloatVector.zero(Simd.A8);
        // As F16Format.dot: steps of 8 go to s0..s3 in turn.
        for (int i = 0; i < np; i += 8) {
            FloatVector next = Simd.f16x8(k, kOff + (long) i * F16Format.BYTES).fma(FloatVector.fromArray(Simd.A8, q, i), s0);
            s0 = s1;
            s1 = s2;
            s2 = s3;
            s3 = next;
        }
        double sum = Simd.hadd8(s0.add(s2).add(s1.add(s3)));
        for (int i = np; i < n; i++) {
            sum += F16Format.get(k, kOff + (long) i * F16Format.BYTES) * q[i];
        }
        return (float) sum;
    }
}
