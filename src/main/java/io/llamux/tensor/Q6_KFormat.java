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

    /** Quant {@code l} (0..15) of group {@code g} of the super-block at {@code blk}, in 0..63 (the +32 bias in). */
    static int quant(MemorySegment w, long blk, int g, int l) {
        return ((Mem.u8(w, blk + lowOffset(g) + l) >> lowShift(g)) & 0xF)
                | ((Mem.u8(w, blk + highOffset(g) + l) >> highShift(g)) & 3) << 4;
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
                int o = outOffset + b * QK + 16 * g;
                for (int l = 0; l < 16; l++) {
                    out[o + l] = dl * (quant(w, blk, g, l) - 32);
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
            IntVector sums = IntVector.zero(Simd.W8);
            for (int half = 0; half < 2; half++) {
                IntVector low1 = Simd.words(w, wb + QL + 64 * half);
                IntVector low2 = Simd.words(w, wb + QL + 64 * half + 32);
                IntVector high = Simd.words(w, wb + QH + 32 * half);
                for (int k = 0; k < 4; k++) {
                    int c = 4 * half + k;
                    IntVector low = (k & 1) == 0 ? low1 : low2;
                    int ls = k < 2 ? 0 : 4;
                    IntVector a = Simd.words(act, ab + Q8_KActivation.QS + 32 * c);
                    IntVector chunk = IntVector.zero(Simd.W8);
                    for (int t = 0; t < 4; t++) {
                        chunk = chunk.add(value(low, high, t, ls, 2 * k).mul(Simd.sbyte(a, t)));
                    }
                    sums = sums.add(chunk.mul(Simd.pair(Mem.i8(w, wb + SCALES + 2 * c), Mem.i8(w, wb + SCALES + 2 * c + 1))));
                }
            }
            acc = Simd.fma8(Mem.f32(act, ab + Q8_KActivation.D) * Mem.f16(w, wb + D), sums, acc);
        }
        return Simd.hsum8(acc);
    }

    /** Quant 4i+t of a chunk, in -32..31: a nibble of ql and two bits of qh. */
    private static IntVector value(IntVector low, IntVector high, int t, int lowShift, int highShift) {
        return Simd.field(low, 8 * t + lowShift, 0xF).or(Simd.field(high, 8 * t + highShift, 3).lanewise(VectorOperators.LSHL, 4))
                .sub(32);
    }
}
