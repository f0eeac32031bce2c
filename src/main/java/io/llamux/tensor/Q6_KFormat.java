package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K: super-blocks of 256 weights, 210 bytes, in 16 groups of 16.
 * <pre>
 *   0  u8  ql[128]     low 4 bits of the quants
 * 128  u8  qh[64]      high 2 bits of the quants
 * 192  i8  scales[16]  one signed scale per group
 * 208  f16 d           super-block scale
 * </pre>
 * Group g (weights 16g..16g+15) has h = g / 8, r = g % 8, p = r / 2, and l = 16(r % 2)..+15:
 * low bits = nibble (p &lt; 2 ? low : high) of ql[64h + 32(p % 2) + l], high bits =
 * (qh[32h + l] &gt;&gt; 2p) &amp; 3; weight = d * scale_g * (q - 32). Partner: Q8_K.
 */
final class Q6_KFormat implements WeightFormat {

    static final int QK = 256;
    static final int QL = 0;
    static final int QH = 128;
    static final int SCALES = 192;
    static final int D = 208;
    static final int BYTES = 210;

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_K;
    }

    private static long lowOffset(int g) {
        return QL + 64 * (g >> 3) + 32 * ((g >> 1) & 1) + 16 * (g & 1);
    }

    private static int lowShift(int g) {
        return (g & 7) < 4 ? 0 : 4;
    }

    private static long highOffset(int g) {
        return QH + 32 * (g >> 3) + 16 * (g & 1);
    }

    private static int highShift(int g) {
        return 2 * ((g & 7) >> 1);
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            for (int g = 0; g < 16; g++) {
                float dl = d * Mem.i8(w, blk + SCALES + g);
                long ql = blk + lowOffset(g);
                long qh = blk + highOffset(g);
                int ls = lowShift(g);
                int hs = highShift(g);
                int o = outOffset + b * QK + 16 * g;
                for (int l = 0; l < 16; l++) {
                    int q = ((Mem.u8(w, ql + l) >> ls) & 0xF) | ((Mem.u8(w, qh + l) >> hs) & 3) << 4;
                    out[o + l] = dl * (q - 32);
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.F);
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_KActivation.BYTES;
            IntVector sum = IntVector.zero(Simd.I);
            for (int g = 0; g < 16; g++) {
                long ql = wb + lowOffset(g);
                long qh = wb + highOffset(g);
                int ls = lowShift(g);
                int hs = highShift(g);
                long a = ab + Q8_KActivation.QS + 16 * g;
                IntVector group = IntVector.zero(Simd.I);
                for (int k = 0; k < 16; k += Simd.L) {
                    IntVector low = Simd.i8(w, ql + k).lanewise(VectorOperators.ASHR, ls).and(0xF);
                    IntVector high = Simd.i8(w, qh + k).lanewise(VectorOperators.ASHR, hs).and(3)
                            .lanewise(VectorOperators.LSHL, 4);
                    group = group.add(low.or(high).sub(32).mul(Simd.i8(act, a + k)));
                }
                sum = sum.add(group.mul(Mem.i8(w, wb + SCALES + g)));
            }
            acc = Simd.scaleAdd(sum, Mem.f16(w, wb + D) * Mem.f32(act, ab + Q8_KActivation.D), acc);
        }
        return Simd.sum(acc);
    }
}
