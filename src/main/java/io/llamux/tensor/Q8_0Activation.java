package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Q8_0 activations (layout in {@link Q8_0Format}), quantized as llama.cpp's x86 quantize_row_q8_0
 * does: per block of 32, amax = max |x|, d = amax / 127 stored as f16, q = round-half-even(x *
 * (127 / amax)) using the unrounded reciprocal (the SIMD path; the scalar reference uses 1/d
 * and rounds half away from zero, which differs only on exact ties).
 */
final class Q8_0Activation implements ActivationFormat {

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    /** Quantizes one block of 32 and returns the sum of its quants. */
    static int quantizeBlock(float[] x, int off, MemorySegment dst, long blk, long dOffset, long qsOffset) {
        float amax = amax(x, off);
        float id = inverseScale(amax);
        Mem.putF16(dst, blk + dOffset, amax / 127f);
        int sum = 0;
        for (int j = 0; j < Q8_0Format.QK; j++) {
            int q = quant(id, x[off + j]);
            Mem.putI8(dst, blk + qsOffset + j, q);
            sum += q;
        }
        return sum;
    }

    /** The largest magnitude in the block of 32 at {@code off}. */
    static float amax(float[] x, int off) {
        float amax = 0;
        for (int j = 0; j < Q8_0Format.QK; j++) {
            amax = Math.max(amax, Math.abs(x[off + j]));
        }
        return amax;
    }

    /** The block scale before it was rounded to f16, needed for Q8_1's s. */
    static float scale(float[] x, int off) {
        return amax(x, off) / 127f;
    }

    /** The scale the products are multiplied by: amax / 127 rounded to f16, as stored. */
    static float storedScale(float amax) {
        return Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
    }

    /** What the elements are multiplied by before rounding: 127 / amax, unrounded (0 for zeros). */
    static float inverseScale(float amax) {
        return amax != 0 ? 127f / amax : 0f;
    }

    /** The quant of {@code v}, in [-127, 127]. */
    static int quant(float inverseScale, float v) {
        return (int) Math.rint(v * inverseScale);
    }

    /**
     * Writes the quants of {@code x[off..off+n)} as floats, {@code step} apart from
     * {@code out[outOff]}, then each block's stored scale ({@link PanelKernel}'s expanded
     * activations).
     */
    static void expand(float[] x, int off, int n, float[] out, int outOff, int step) {
        Mem.checkBlocks(GgmlType.Q8_0, n);
        for (int b = 0; b < n; b += Q8_0Format.QK) {
            float amax = amax(x, off + b);
            float id = inverseScale(amax);
            for (int j = 0; j < Q8_0Format.QK; j++) {
                out[outOff + step * (b + j)] = quant(id, x[off + b + j]);
            }
            out[outOff + step * (n + b / Q8_0Format.QK)] = storedScale(amax);
        }
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        Mem.checkBlocks(type(), n);
        for (int b = 0; b < n / Q8_0Format.QK; b++) {
            quantizeBlock(x, off + b * Q8_0Format.QK, dst, dstOffset + (long) b * Q8_0Format.BYTES,
                    Q8_0Format.D, Q8_0Format.QS);
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        WeightFormats.of(GgmlType.Q8_0).dequantize(src, srcOffset, out, outOffset, n);
    }
}
