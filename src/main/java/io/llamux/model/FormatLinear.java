package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.Activations;
import io.llamux.tensor.WeightFormat;
import java.lang.foreign.MemorySegment;

/**
 * A weight in any ggml type that {@link io.llamux.tensor.WeightFormats} supports. Before each
 * matmul the activations are converted to the type's partner format (Q8_0 for Q4_0, Q8_K for
 * the K-quants, F16 for F16, ...) exactly as llama.cpp's CPU backend does, which is what makes
 * the logits agree with its own; then every row's dot product runs on the converted vectors.
 */
final class FormatLinear extends Linear {
    private final WeightFormat format;
    private final Activations acts;

    /** {@code acts} is shared with every weight of the same partner format and row length. */
    FormatLinear(TensorInfo t, MemorySegment data, WeightFormat format, Activations acts) {
        super(t, data);
        this.format = format;
        this.acts = acts;
    }

    @Override
    protected void prepare(float[] x, int batch) {
        for (int b = 0; b < batch; b++) {
            acts.quantize(b, x, b * cols);
        }
    }

    /**
     * One token goes through ggml's vec_dot order; a batch through the order llama.cpp's
     * batched matmul (tinyBLAS) uses, which differs for F16/BF16 and which tinyBLAS only takes
     * for a row count that is a multiple of 4.
     */
    @Override
    protected void computeRows(int from, int to, int batch, float[] y, int yOff) {
        MemorySegment a = acts.segment();
        long stride = acts.rowBytes();
        boolean batched = batch > 1 && rows % 4 == 0;
        for (int r = from; r < to; r++) {
            long row = r * rowBytes;
            for (int b = 0; b < batch; b++) {
                y[yOff + b * rows + r] = batched ? format.dotForBatch(data, row, a, b * stride, cols)
                        : format.dot(data, row, a, b * stride, cols);
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        format.dequantize(data, r * rowBytes, dst, off, cols);
    }
}
