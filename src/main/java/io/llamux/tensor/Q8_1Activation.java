package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q8_1 activations, the partner of Q4_1 and Q5_1: blocks of 32, 36 bytes.
 * <pre>
 *   0  f16 d        scale
 *   2  f16 s        d * sum(qs), with d before its rounding to f16
 *   4  i8  qs[32]   element j = qs[j] * d
 * </pre>
 * Quantized like Q8_0 (x86 quantize_row_q8_1); s lets the weights' offset m be applied once
 * per block.
 */
final class Q8_1Activation implements ActivationFormat {

    static final int QK = 32;
    static final int D = 0;
    static final int S = 2;
    static final int QS = 4;
    static final int BYTES = QS + QK;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_1;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            int o = off + b * QK;
            long blk = dstOffset + (long) b * BYTES;
            int sum = Q8_0Activation.quantizeBlock(x, o, dst, blk, D, QS);
            Mem.putF16(dst, blk + S, Q8_0Activation.scale(x, o) * sum);
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = srcOffset + (long) b * BYTES;
            float d = Mem.f16(src, blk + D);
            for (int j = 0; j < QK; j++) {
                out[outOffset + b * QK + j] = Mem.i8(src, blk + QS + j) * d;
            }
        }
    }
}
