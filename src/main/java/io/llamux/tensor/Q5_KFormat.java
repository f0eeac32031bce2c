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
        FloatVector acc = FloatVector.zero(Simd.A8);
        float minTerms = 0;
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            float da = Mem.f32(act, ab + Q8_KActivation.D);
            float dmin = -da * Mem.f16(w, wb + DMIN);
            int a0 = Mem.i32(w, wb + SCALES);
            int a1 = Mem.i32(w, wb + SCALES + 4);
            int a2 = Mem.i32(w, wb + SCALES + 8);
            int scales0 = Q4_KFormat.scaleWord(a0, a2, 0);
            int scales1 = Q4_KFormat.scaleWord(a0, a2, 1);
            int mins0 = Q4_KFormat.minWord(a1, a2, 0);
            int mins1 = Q4_KFormat.minWord(a1, a2, 1);
            int mins = 0;
            for (int s = 0; s < 8; s++) {
                mins += (((s < 4 ? mins0 : mins1) >>> (8 * (s & 3))) & 0xFF) * Q8_KActivation.sum32(act, ab, s);
            }
            minTerms = Math.fma(dmin, mins, minTerms); // summs += dmin * isum, contracted by the C compiler
            IntVector high = Simd.words(w, wb + QH);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int s = 0; s < 8; s++) {
                IntVector q = Simd.words(w, wb + QS + 32 * (s >> 1));
                int shift = 4 * (s & 1);
                IntVector a = Simd.words(act, ab + Q8_KActivation.QS + 32 * s);
                IntVector chunk = IntVector.zero(Simd.W8);
                for (int t = 0; t < 4; t++) {
                    chunk = chunk.add(value(q, high, t, shift, s).mul(Simd.sbyte(a, t)));
                }
                sums = sums.add(chunk.mul(((s < 4 ? scales0 : scales1) >>> (8 * (s & 3))) & 0xFF));
            }
            acc = Simd.fma8(da * Mem.f16(w, wb + D), sums, acc);
        }
        return Simd.hsum8(acc) + minTerms;
    }

    /** Quant 4i+t of sub-block s: a nibble plus bit s of qh. */
    private static IntVector value(IntVector q, IntVector high, int t, int shift, int s) {
        return Simd.field(q, 8 * t + shift, 0xF).or(Simd.field(high, 8 * t + s, 1).lanewise(VectorOperators.LSHL, 4));
    }
}
