package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q3_K: super-blocks of 256 weights, 110 bytes, in 16 groups of 16.
 * <pre>
 *   0  u8  hmask[32]   3rd bit of each quant
 *  32  u8  qs[64]      low 2 bits of each quant
 *  96  u8  scales[12]  16 6-bit signed scales (offset 32), packed as below
 * 108  f16 d           super-block scale
 * </pre>
 * Group g (weights 16g..16g+15) has h = g / 8, j = (g % 8) / 2, and its quant l is
 * ((qs[32h + 16(g % 2) + l] &gt;&gt; 2j) &amp; 3) - (hmask bit (4h + j) of byte 16(g % 2) + l ? 0 : 4).
 * Scale g: low 4 bits are the low (g &lt; 8) or high (g &gt;= 8) nibble of scales[g % 8]; the top
 * 2 bits are bits 2(g / 4)..+1 of scales[8 + g % 4]. weight = d * (scale - 32) * q.
 * Partner: Q8_K.
 */
final class Q3_KFormat implements WeightFormat {

    static final int QK = 256;
    static final int HMASK = 0;
    static final int QS = 32;
    static final int SCALES = 96;
    static final int D = 108;
    static final int BYTES = 110;

    @Override
    public GgmlType type() {
        return GgmlType.Q3_K;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_K;
    }

    /** The signed scale of group {@code g} in the super-block at {@code blk}. */
    static int scale(MemorySegment w, long blk, int g) {
        int low = Mem.u8(w, blk + SCALES + (g & 7));
        low = g < 8 ? low & 0xF : low >> 4;
        int high = (Mem.u8(w, blk + SCALES + 8 + (g & 3)) >> (2 * (g >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    /**
     * Scales 4q..4q+3 (offset by 32), one per byte, unpacked from the three little-endian words
     * of the packed scales: the same bits as {@link #scale}, four at a time.
     */
    static int scaleWord(int a0, int a1, int a2, int q) {
        int low = switch (q) {
            case 0 -> a0;
            case 1 -> a1;
            case 2 -> a0 >>> 4;
            default -> a1 >>> 4;
        };
        return (low & 0x0F0F0F0F) | ((a2 >>> (2 * q)) & 0x03030303) << 4;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            for (int g = 0; g < 16; g++) {
                float dl = d * scale(w, blk, g);
                long q = blk + QS + 32 * (g >> 3) + 16 * (g & 1);
                long hm = blk + HMASK + 16 * (g & 1);
                int shift = 2 * ((g & 7) >> 1);
                int hbit = 4 * (g >> 3) + ((g & 7) >> 1);
                int o = outOffset + b * QK + 16 * g;
                for (int l = 0; l < 16; l++) {
                    int v = ((Mem.u8(w, q + l) >> shift) & 3) - (((Mem.u8(w, hm + l) >> hbit) & 1) != 0 ? 0 : 4);
                    out[o + l] = dl * v;
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
            int a0 = Mem.i32(w, wb + SCALES);
            int a1 = Mem.i32(w, wb + SCALES + 4);
            int a2 = Mem.i32(w, wb + SCALES + 8);
            IntVector hmask = Simd.words(w, wb + HMASK);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int half = 0; half < 2; half++) {
                IntVector q = Simd.words(w, wb + QS + 32 * half);
                // Scales 8*half .. 8*half+7, one per byte of two words.
                int scalesLo = scaleWord(a0, a1, a2, 2 * half);
                int scalesHi = scaleWord(a0, a1, a2, 2 * half + 1);
                for (int k = 0; k < 4; k++) {
                    int c = 4 * half + k;
                    IntVector a = Simd.words(act, ab + Q8_KActivation.QS + 32 * c);
                    IntVector chunk = IntVector.zero(Simd.W8);
                    for (int t = 0; t < 4; t++) {
                        chunk = chunk.add(value(q, hmask, t, k, c).mul(Simd.sbyte(a, t)));
                    }
                    int word = k < 2 ? scalesLo : scalesHi;
                    int lo = ((word >>> (16 * (k & 1))) & 0xFF) - 32;
                    int hi = ((word >>> (16 * (k & 1) + 8)) & 0xFF) - 32;
                    sums = sums.add(chunk.mul(Simd.pair(lo, hi)));
                }
            }
            acc = Simd.fma8(Mem.f32(act, ab + Q8_KActivation.D) * Mem.f16(w, wb + D), sums, acc);
        }
        return Simd.hsum8(acc);
    }

    /** Quant 4i+t of chunk c (shift 2k in qs, hmask bit c), in -4..3. */
    private static IntVector value(IntVector q, IntVector hmask, int t, int k, int c) {
        return Simd.field(q, 8 * t + 2 * k, 3).add(Simd.field(hmask, 8 * t + c, 1).lanewise(VectorOperators.LSHL, 2)).sub(4);
    }
}
