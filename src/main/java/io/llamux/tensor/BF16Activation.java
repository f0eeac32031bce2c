package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/** BF16 activations: each float rounded to bfloat16, nearest even, NaNs kept quiet (as ggml does). */
final class BF16Activation implements ActivationFormat {

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    static short toBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16);
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            Mem.putI16(dst, dstOffset + 2L * i, toBf16(x[off + i]));
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = BF16Format.get(src, srcOffset + 2L * i);
        }
    }
}
