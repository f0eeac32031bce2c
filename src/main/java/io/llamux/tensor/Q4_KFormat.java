package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K: super-blocks of 256 weights, 144 bytes, in 8 sub-blocks of 32.
 * <pre>
 *   0  f16 d           super-block scale of the scales
 *   2  f16 dmin        super-block scale of the mins
 *   4  u8  scales[12]  8 6-bit scales and 8 6-bit mins, packed (see {@link #scale}, {@link #min})
 *  16  u8  qs[128]     sub-block s: the low (s even) or high (s odd) nibbles of qs[32(s/2)..+31]
 * </pre>
 * weight = d*scale_s * q - dmin*min_s. Partner: Q8_K; the min term uses its bsums.
 */
final class Q4_KFormat implements WeightFormat {

    static final int QK = 256;
    static final int D = 0;
    static final int DMIN = 2;
    static final int SCALES = 4;
    static final int QS = 16;
    static final int BYTES = 144;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_K;
    }

    /**
     * The 6-bit scale of sub-block {@code s} from the 12 packed bytes at {@code scales} (shared
     * with Q5_K): bytes 0-3 hold scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3; bytes 8-11
     * hold the low 4 bits of scales 4-7 (low nibble) and mins 4-7 (high nibble), whose top 2
     * bits are the top 2 bits of bytes 0-3 (scales) and 4-7 (mins).
     */
    static int scale(MemorySegment w, long scales, int s) {
        if (s < 4) {
            return Mem.u8(w, scales + s) & 63;
        }
        return (Mem.u8(w, scales + s + 4) & 0xF) | (Mem.u8(w, scales + s - 4) >> 6) << 4;
    }

    /** The 6-bit min of sub-block {@code s}; see {@link #scale}. */
    static int min(MemorySegment w, long scales, int s) {
        if (s < 4) {
            return Mem.u8(w, scales + s + 4) & 63;
        }
        return (Mem.u8(w, scales + s + 4) >> 4) | (Mem.u8(w, scales + s) >> 6) << 4;
    }

    /** Scales 0-3 (word 0) or 4-7 (word 1), one per byte, from the packed words a0, a1, a2. */
    static int scaleWord(int a0, int a2, int word) {
        return word == 0 ? a0 & 0x3F3F3F3F : (a2 & 0x0F0F0F0F) | ((a0 >>> 6) & 0x03030303) << 4;
    }

    /** Mins 0-3 (word 0) or 4-7 (word 1), one per byte. */
    static int minWord(int a1, int a2, int word) {
        return word == 0 ? a1 & 0x3F3F3F3F : ((a2 >>> 4) & 0x0F0F0F0F) | ((a1 >>> 6) & 0x03030303) << 4;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            float dmin = Mem.f16(w, blk + DMIN);
            for (int s = 0; s < 8; s++) {
                float dl = d * scale(w, blk + SCALES, s);
                float ml = dmin * min(w, blk + SCALES, s);
                long q = blk + QS + 32 * (s >> 1);
                int shift = 4 * (s & 1);
                int o = outOffset + b * QK + 32 * s;
                for (int l = 0; l < 32; l++) {
                    out[o + l] = dl * ((Mem.u8(w, q + l) >> shift) & 0xF) - ml;
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.A8);
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            float da = Mem.f32(act, ab + Q8_KActivation.D);
            int a0 = Mem.i32(w, wb + SCALES);
            int a2 = Mem.i32(w, wb + SCALES + 8);
            int scales0 = scaleWord(a0, a2, 0);
            int scales1 = scaleWord(a0, a2, 1);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int s = 0; s < 8; s++) {
                IntVector q = Simd.words(w, wb + QS + 32 * (s >> 1));
                int shift = 4 * (s & 1);
                IntVector a = Simd.words(act, ab + Q8_KActivation.QS + 32 * s);
                IntVector chunk = IntVector.zero(Simd.W8);
                for (int t = 0; t < 4; t++) {
                    chunk = chunk.add(Simd.field(q, 8 * t + shift, 0xF).mul(Simd.sbyte(a, t)));
                }
                sums = sums.add(chunk.mul(((s < 4 ? scales0 : scales1) >>> (8 * (s & 3))) & 0xFF));
            }
            acc = Simd.fma8(da * Mem.f16(w, wb + D), sums, acc);
        }
        return Simd.hsum8(acc) + minTerms(w, wByteOffset, act, actByteOffset, n / QK);
    }

    /**
     * ggml's acc_m over the whole row: four lanes, lane m += dmin * (min[2m]*sum32[2m] +
     * min[2m+1]*sum32[2m+1]) per super-block by FMA, then (m0+m2)+(m1+m3). Independent of the
     * scale lanes, so it runs as its own scalar pass (keeping the vector loop small enough for
     * C2 to inline all of it).
     */
    private static float minTerms(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int blocks) {
        float m0 = 0;
        float m1 = 0;
        float m2 = 0;
        float m3 = 0;
        for (int b = 0; b < blocks; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            float dmin = -Mem.f32(act, ab + Q8_KActivation.D) * Mem.f16(w, wb + DMIN);
            int a0 = Mem.i32(w, wb + SCALES);
            int a1 = Mem.i32(w, wb + SCALES + 4);
            int a2 = Mem.i32(w, wb + SCALES + 8);
            int lo = minWord(a1, a2, 0);
            int hi = minWord(a1, a2, 1);
            m0 = Math.fma(dmin, minPair(lo, act, ab, 0), m0);
            m1 = Math.fma(dmin, minPair(lo, act, ab, 2), m1);
            m2 = Math.fma(dmin, minPair(hi, act, ab, 4), m2);
            m3 = Math.fma(dmin, minPair(hi, act, ab, 6), m3);
        }
        return (m0 + m2) + (m1 + m3);
    }

    /** min[s]*sum32[s] + min[s+1]*sum32[s+1] for even s, as an exact int. */
    private static float minPair(int minWord, MemorySegment act, long ab, int s) {
        int shift = 8 * (s & 3);
        return ((minWord >>> shift) & 0xFF) * Q8_KActivation.sum32(act, ab, s)
                + ((minWord >>> (shift + 8)) & 0xFF) * Q8_KActivation.sum32(act, ab, s + 1);
    }
}
