package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/** F32 activations: the floats as they are. */
final class F32Activation implements ActivationFormat {

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void quantize(float[] x, int off, int n, MemorySegment dst, long dstOffset) {
        for (int i = 0; i < n; i++) {
            Mem.putF32(dst, dstOffset + 4L * i, x[off + i]);
        }
    }

    @Override
    public void dequantize(MemorySegment src, long srcOffset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Mem.f32(src, srcOffset + 4L * i);
        }
    }
}
