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
        FloatVector acc = FloatVector.zero(Simd.F);
        float minTerms = 0;
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            float da = Mem.f32(act, ab + Q8_KActivation.D);
            int mins = 0;
            for (int g = 0; g < 16; g++) {
                mins += Mem.i16(act, ab + Q8_KActivation.BSUMS + 2 * g) * (Mem.u8(w, wb + SCALES + g) >> 4);
            }
            IntVector sum = IntVector.zero(Simd.I);
            for (int g = 0; g < 16; g++) {
                long q = wb + quantOffset(g);
                int shift = shift(g);
                long a = ab + Q8_KActivation.QS + 16 * g;
                IntVector group = IntVector.zero(Simd.I);
                for (int k = 0; k < 16; k += Simd.L) {
                    group = group.add(Simd.i8(w, q + k).lanewise(VectorOperators.ASHR, shift).and(3)
                            .mul(Simd.i8(act, a + k)));
                }
                sum = sum.add(group.mul(Mem.u8(w, wb + SCALES + g) & 0xF));
            }
            acc = Simd.scaleAdd(sum, da * Mem.f16(w, wb + D), acc);
            minTerms += da * Mem.f16(w, wb + DMIN) * mins;
        }
        return Simd.sum(acc) - minTerms;
    }
}
