package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_1: blocks of 32 weights, 24 bytes.
 * <pre>
 *   0  f16 d        scale
 *   2  f16 m        offset
 *   4  u32 qh       bit j is the 5th bit of weight j (little-endian)
 *   8  u8  qs[16]   low nibble: weight j, high nibble: weight j+16
 * </pre>
 * weight = (nibble | highbit &lt;&lt; 4) * d + m. Partner: Q8_1, as for Q4_1.
 */
final class Q5_1Format implements WeightFormat {

    static final int QK = 32;
    static final int D = 0;
    static final int M = 2;
    static final int QH = 4;
    static final int QS = 8;
    static final int BYTES = QS + QK / 2;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_1;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            float m = Mem.f16(w, blk + M);
            int qh = Mem.i32(w, blk + QH);
            int o = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = Mem.u8(w, blk + QS + j);
                int lo = (q & 0xF) | ((qh >>> j) & 1) << 4;
                int hi = (q >> 4) | ((qh >>> (j + 16)) & 1) << 4;
                out[o + j] = lo * d + m;
                out[o + j + QK / 2] = hi * d + m;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.F);
        float offsets = 0;
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_1Activation.BYTES;
            float d = Mem.f16(w, wb + D) * Mem.f16(act, ab + Q8_1Activation.D);
            offsets += Mem.f16(w, wb + M) * Mem.f16(act, ab + Q8_1Activation.S);
            int qh = Mem.i32(w, wb + QH);
            IntVector sum = IntVector.zero(Simd.I);
            for (int k = 0; k < QK / 2; k += Simd.L) {
                IntVector q = Simd.i8(w, wb + QS + k);
                IntVector lo = q.and(0xF).or(Simd.bits(qh, k, 4));
                IntVector hi = q.lanewise(VectorOperators.ASHR, 4).and(0xF).or(Simd.bits(qh, k + 16, 4));
                sum = sum.add(lo.mul(Simd.i8(act, ab + Q8_1Activation.QS + k)))
                        .add(hi.mul(Simd.i8(act, ab + Q8_1Activation.QS + QK / 2 + k)));
            }
            acc = Simd.scaleAdd(sum, d, acc);
        }
        return Simd.sum(acc) + offsets;
    }
}
