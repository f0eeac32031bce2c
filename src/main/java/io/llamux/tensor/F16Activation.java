package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/** F16 activations: each float rounded to the nearest half (ties to even), as F16C does. */
final class F16Activation implements ActivationFormat {

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            Mem.putF16(dst, dstOffset + 2L * i, x[off + i]);
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = F16Format.get(src, srcOffset + 2L * i);
        }
    }
}
