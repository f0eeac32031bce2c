package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_1: blocks of 32 weights, 20 bytes.
 * <pre>
 *   0  f16 d        scale
 *   2  f16 m        offset
 *   4  u8  qs[16]   weight j = (qs[j] &amp; 0xF) * d + m, weight j+16 = (qs[j] &gt;&gt; 4) * d + m
 * </pre>
 * Partner: Q8_1, whose {@code s} = d_a * sum(q_a) carries the offset term: per block
 * d_w*d_a * sum(q4*q8) + m * s.
 */
final class Q4_1Format implements WeightFormat {

    static final int QK = 32;
    static final int D = 0;
    static final int M = 2;
    static final int QS = 4;
    static final int BYTES = QS + QK / 2;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
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
            int o = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = Mem.u8(w, blk + QS + j);
                out[o + j] = (q & 0xF) * d + m;
                out[o + j + QK / 2] = (q >> 4) * d + m;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.A8);
        float offsets = 0;
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_1Activation.BYTES;
            float d = Mem.f16(w, wb + D) * Mem.f16(act, ab + Q8_1Activation.D);
            offsets += Mem.f16(w, wb + M) * Mem.f16(act, ab + Q8_1Activation.S);
            // Lanes 0-3: low nibbles (elements 0-15), lanes 4-7: high nibbles (16-31).
            IntVector q = Simd.words16Twice(w, wb + QS).lanewise(VectorOperators.LSHR, Simd.NIBBLE_SHIFT);
            IntVector a = Simd.words(act, ab + Q8_1Activation.QS);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int t = 0; t < 4; t++) { // element 4i+t of each lane i
                sums = sums.add(Simd.field(q, 8 * t, 0xF).mul(Simd.sbyte(a, t)));
            }
            acc = Simd.fma8(d, sums, acc);
        }
        return Simd.hsum8(acc) + offsets;
    }
}
