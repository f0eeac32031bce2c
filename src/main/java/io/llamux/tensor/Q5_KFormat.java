package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_K: super-blocks of 256 weights, 176 bytes, in 8 sub-blocks of 32.
 * <pre>
 *   0  f16 d           super-block scale of the scales
 *   2  f16 dmin        super-block scale of the mins
 *   4  u8  scales[12]  8 6-bit scales and mins, packed as in Q4_K
 *  16  u8  qh[32]      bit s of qh[l] is the 5th bit of weight l of sub-block s
 *  48  u8  qs[128]     sub-block s: the low (s even) or high (s odd) nibbles of qs[32(s/2)..+31]
 * </pre>
 * weight = d*scale_s * q - dmin*min_s. Partner: Q8_K.
 */
final class Q5_KFormat implements WeightFormat {

    static final int QK = 256;
    static final int D = 0;
    static final int DMIN = 2;
    static final int SCALES = 4;
    static final int QH = 16;
    static final int QS = 48;
    static final int BYTES = 176;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_K;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            float dmin = Mem.f16(w, blk + DMIN);
            for (int s = 0; s < 8; s++) {
                float dl = d * Q4_KFormat.scale(w, blk + SCALES, s);
                float ml = dmin * Q4_KFormat.min(w, blk + SCALES, s);
                long q = blk + QS + 32 * (s >> 1);
                int shift = 4 * (s & 1);
                int o = outOffset + b * QK + 32 * s;
                for (int l = 0; l < 32; l++) {
                    int v = ((Mem.u8(w, q + l) >> shift) & 0xF) | ((Mem.u8(w, blk + QH + l) >> s) & 1) << 4;
                    out[o + l] = dl * v - ml;
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
                    scales = Q4_KFormat.scaleWord(a0, a2, s >> 2);
                    minima = Q4_KFormat.minWord(a1, a2, s >> 2);
                }
                int shiftBytes = 8 * (s & 3);
                long q = wb + QS + 32 * (s >> 1);
                int shift = 4 * (s & 1);
                long a = ab + Q8_KActivation.QS + 32 * s;
                IntVector group = IntVector.zero(Simd.I);
                for (int k = 0; k < 32; k += Simd.L) {
                    IntVector low = Simd.i8(w, q + k).lanewise(VectorOperators.ASHR, shift).and(0xF);
                    IntVector high = Simd.i8(w, wb + QH + k).lanewise(VectorOperators.ASHR, s).and(1)
                            .lanewise(VectorOperators.LSHL, 4);
                    group = group.add(low.or(high).mul(Simd.i8(act, a + k)));
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
