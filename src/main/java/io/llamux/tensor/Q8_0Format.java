package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Q8_0: blocks of 32 weights, 34 bytes. Also the activation partner of Q4_0, Q5_0 and Q8_0.
 * <pre>
 *   0  f16 d        scale
 *   2  i8  qs[32]   weight j = qs[j] * d
 * </pre>
 * Partner: Q8_0. Per block the integer sum of q8*q8 is exact; it is scaled by d_w*d_a in float.
 */
final class Q8_0Format implements WeightFormat {

    static final int QK = 32;
    static final int D = 0;
    static final int QS = 2;
    static final int BYTES = QS + QK;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public GgmlType activationType() {
        return GgmlType.Q8_0;
    }

    @Override
    public void dequantize(MemorySegment w, long byteOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = byteOffset + (long) b * BYTES;
            float d = Mem.f16(w, blk + D);
            for (int j = 0; j < QK; j++) {
                out[outOffset + b * QK + j] = Mem.i8(w, blk + QS + j) * d;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.A8);
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * BYTES;
            float d = Mem.f16(w, wb + D) * Mem.f16(act, ab + D);
            IntVector q = Simd.words(w, wb + QS);
            IntVector a = Simd.words(act, ab + QS);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int t = 0; t < 4; t++) { // element 4i+t of each lane i
                sums = sums.add(Simd.sbyte(q, t).mul(Simd.sbyte(a, t)));
            }
            acc = Simd.fma8(d, sums, acc);
        }
        return Simd.hsum8(acc);
    }
}
