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
        FloatVector acc = FloatVector.zero(Simd.F);
        float minTerms = 0;
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            int a0 = Mem.i32(w, wb + SCALES);
            int a1 = Mem.i32(w, wb + SCALES + 4);
            int a2 = Mem.i32(w, wb + SCALES + 8);
            IntVector sum = IntVector.zero(Simd.I);
            int mins = 0;
            int scales = 0;
            int minima = 0;
            for (int s = 0; s < 8; s++) {
                if ((s & 3) == 0) {
                    scales = scaleWord(a0, a2, s >> 2);
                    minima = minWord(a1, a2, s >> 2);
                }
                int shiftBytes = 8 * (s & 3);
                long q = wb + QS + 32 * (s >> 1);
                int shift = 4 * (s & 1);
                long a = ab + Q8_KActivation.QS + 32 * s;
                IntVector group = IntVector.zero(Simd.I);
                for (int k = 0; k < 32; k += Simd.L) {
                    group = group.add(Simd.i8(w, q + k).lanewise(VectorOperators.ASHR, shift).and(0xF)
                            .mul(Simd.i8(act, a + k)));
                }
                sum = sum.add(group.mul((scales >>> shiftBytes) & 0xFF));
                mins += ((minima >>> shiftBytes) & 0xFF) * Q8_KActivation.sum32(act, ab, s);
            }
            float da = Mem.f32(act, ab + Q8_KActivation.D);
            acc = Simd.scaleAdd(sum, Mem.f16(w, wb + D) * da, acc);
            minTerms += Mem.f16(w, wb + DMIN) * da * mins;
        }
        return Simd.sum(acc) - minTerms;
    }
}
