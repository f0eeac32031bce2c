package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q2_K: super-blocks of 256 weights, 84 bytes, in 16 groups of 16.
 * <pre>
 *   0  u8  scales[16]  group g: low nibble = scale, high nibble = min
 *  16  u8  qs[64]      2-bit quants
 *  80  f16 d           super-block scale of the scales
 *  82  f16 dmin        super-block scale of the mins
 * </pre>
 * Group g (weights 16g..16g+15) has h = g / 8, j = (g % 8) / 2: its quant l is
 * (qs[32h + 16(g % 2) + l] &gt;&gt; 2j) &amp; 3 and weight = d*(sc &amp; 0xF) * q - dmin*(sc &gt;&gt; 4).
 * Partner: Q8_K; the min term uses its per-16 sums (bsums).
 */
final class Q2_KFormat implements WeightFormat {

    static final int QK = 256;
    static final int SCALES = 0;
    static final int QS = 16;
    static final int D = 80;
    static final int DMIN = 82;
    static final int BYTES = 84;

    @Override
    public GgmlType type() {
        return GgmlType.Q2_K;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_K;
    }

    private static long quantOffset(int g) {
        return QS + 32 * (g >> 3) + 16 * (g & 1);
    }

    private static int shift(int g) {
        return 2 * ((g & 7) >> 1);
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            float dmin = Mem.f16(w, blk + DMIN);
            for (int g = 0; g < 16; g++) {
                int sc = Mem.u8(w, blk + SCALES + g);
                float dl = d * (sc & 0xF);
                float ml = dmin * (sc >> 4);
                long q = blk + quantOffset(g);
                int shift = shift(g);
                int o = outOffset + b * QK + 16 * g;
                for (int l = 0; l < 16; l++) {
                    out[o + l] = dl * ((Mem.u8(w, q + l) >> shift) & 3) - ml;
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
            // Mins first, into the same lanes: lane i = min[2i]*bsum[2i] + min[2i+1]*bsum[2i+1].
            // Word i of bsums holds bsums[2i] (low half) and bsums[2i+1]; lane i of pairs holds scales[2i], [2i+1].
            IntVector pairs = Simd.pairs16(w, wb + SCALES);
            IntVector bsums = Simd.words(act, ab + Q8_KActivation.BSUMS);
            IntVector mins = Simd.field(pairs, 4, 0xF).mul(bsums.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                    .add(Simd.field(pairs, 12, 0xF).mul(bsums.lanewise(VectorOperators.ASHR, 16)));
            acc = Simd.fma8(-da * Mem.f16(w, wb + DMIN), mins, acc);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int half = 0; half < 2; half++) {
                IntVector q = Simd.words(w, wb + QS + 32 * half);
                for (int k = 0; k < 4; k++) {
                    int c = 4 * half + k;
                    IntVector a = Simd.words(act, ab + Q8_KActivation.QS + 32 * c);
                    IntVector chunk = IntVector.zero(Simd.W8);
                    for (int t = 0; t < 4; t++) {
                        chunk = chunk.add(Simd.field(q, 8 * t + 2 * k, 3).mul(Simd.sbyte(a, t)));
                    }
                    // Scales 2c (elements 0-15 of the chunk) and 2c+1 (16-31), low nibbles.
                    int word = pairs.lane(c);
                    sums = sums.add(chunk.mul(Simd.pair(word & 0xF, (word >>> 8) & 0xF)));
                }
            }
            acc = Simd.fma8(da * Mem.f16(w, wb + D), sums, acc);
        }
        return Simd.hsum8(acc);
    }
}
