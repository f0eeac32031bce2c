package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_0: blocks of 32 weights, 22 bytes.
 * <pre>
 *   0  f16 d        scale
 *   2  u32 qh       bit j is the 5th bit of weight j (little-endian)
 *   6  u8  qs[16]   low nibble: weight j, high nibble: weight j+16
 * </pre>
 * weight = ((nibble | highbit &lt;&lt; 4) - 16) * d. Partner: Q8_0, as for Q4_0.
 */
final class Q5_0Format implements WeightFormat {

    static final int QK = 32;
    static final int D = 0;
    static final int QH = 2;
    static final int QS = 6;
    static final int BYTES = QS + QK / 2;

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
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
            int qh = Mem.i32(w, blk + QH);
            int o = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = Mem.u8(w, blk + QS + j);
                int lo = (q & 0xF) | ((qh >>> j) & 1) << 4;
                int hi = (q >> 4) | ((qh >>> (j + 16)) & 1) << 4;
                out[o + j] = (lo - 16) * d;
                out[o + j + QK / 2] = (hi - 16) * d;
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long wByteOffset, MemorySegment act, long actByteOffset, int n) {
        Mem.checkBlocks(type(), n);
        FloatVector acc = FloatVector.zero(Simd.A8);
        for (int b = 0; b < n / QK; b++) {
            long wb = wByteOffset + (long) b * BYTES;
            long ab = actByteOffset + (long) b * Q8_0Format.BYTES;
            float d = Mem.f16(w, wb + D) * Mem.f16(act, ab + Q8_0Format.D);
            // Lanes 0-3: low nibbles (elements 0-15), lanes 4-7: high nibbles (16-31).
            IntVector q = Simd.words16Twice(w, wb + QS).lanewise(VectorOperators.LSHR, Simd.NIBBLE_SHIFT);
            IntVector h = IntVector.broadcast(Simd.W8, Mem.i32(w, wb + QH)).lanewise(VectorOperators.LSHR, Simd.WORD_BIT);
            IntVector a = Simd.words(act, ab + Q8_0Format.QS);
            IntVector sums = IntVector.zero(Simd.W8);
            for (int t = 0; t < 4; t++) { // element 4i+t of each lane i
                sums = sums.add(Simd.field(q, 8 * t, 0xF).or(Simd.field(h, t, 1).lanewise(VectorOperators.LSHL, 4)).sub(16).mul(Simd.sbyte(a, t)));
            }
            acc = Simd.fma8(d, sums, acc);
        }
        return Simd.hsum8(acc);
    }
}
