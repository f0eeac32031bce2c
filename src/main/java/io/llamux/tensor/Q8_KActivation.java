package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q8_K activations, the partner of the K-quants: blocks of 256, 292 bytes.
 * <pre>
 *   0  f32 d          scale
 *   4  i8  qs[256]    element j = qs[j] * d
 * 260  i16 bsums[16]  sum of qs[16g..16g+15], for the K-quants' min terms
 * </pre>
 * Quantized as llama.cpp's quantize_row_q8_K_ref (also its x86 path): max = the element of
 * largest magnitude (first one on ties), iscale = -127 / max, q = min(127, nearest_int(iscale *
 * x)) with ties to even, d = 1 / iscale.
 */
final class Q8_KActivation implements ActivationFormat {

    static final int QK = 256;
    static final int D = 0;
    static final int QS = 4;
    static final int BSUMS = 260;
    static final int BYTES = 292;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_K;
    }

    /** bsums of sub-block {@code s} of 32 (the K-quants with 8 sub-blocks). */
    static int sum32(MemorySegment act, long blk, int s) {
        return Mem.i16(act, blk + BSUMS + 4L * s) + Mem.i16(act, blk + BSUMS + 4L * s + 2);
    }

    /**
     * The block of 256 at {@code x[o]}: -127 over its element of largest magnitude (the first
     * one on ties), or 0 when the block is all zeros. The scale stored is its inverse.
     */
    static float inverseScale(float[] x, int o) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < QK; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) {
                amax = ax;
                max = x[o + j];
            }
        }
        return amax == 0 ? 0 : -127f / max;
    }

    /** One element's quant: nearest to {@code iscale * v}, ties to even, at most 127. */
    static int quant(float iscale, float v) {
        return Math.min(127, (int) Math.rint(iscale * v));
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            int o = off + b * QK;
            long blk = dstOffset + (long) b * BYTES;
            float iscale = inverseScale(x, o);
            if (iscale == 0) {
                dst.asSlice(blk, BYTES).fill((byte) 0);
                continue;
            }
            for (int g = 0; g < QK / 16; g++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) {
                    int q = quant(iscale, x[o + 16 * g + l]);
                    Mem.putI8(dst, blk + QS + 16 * g + l, q);
                    sum += q;
                }
                Mem.putI16(dst, blk + BSUMS + 2L * g, sum);
            }
            Mem.putF32(dst, blk + D, 1 / iscale);
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / QK; b++) {
            long blk = srcOffset + (long) b * BYTES;
            float d = Mem.f32(src, blk + D);
            for (int j = 0; j < QK; j++) {
                out[outOffset + b * QK + j] = Mem.i8(src, blk + QS + j) * d;
            }
        }
    }
}
