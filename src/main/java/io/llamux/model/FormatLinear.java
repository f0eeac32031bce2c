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

    @Override
    protected boolean sharesPrepared(Linear other) {
        return other instanceof FormatLinear f && f.acts == acts;
    }

    @Override
    protected void adoptPrepared(int batch) {
        // The shared buffer already holds this input, converted by the weight before.
    }

    /**
     * One token goes through ggml's vec_dot order; a batch through the order llama.cpp's
     * batched matmul (tinyBLAS) uses, which differs for F16/BF16 and which tinyBLAS only takes
     * for a row count that is a multiple of 4.
     */
    /** Rows per chunk of a batched matmul: their weights stay in cache across the token tiles. */
    private static final int ROW_CHUNK = 16;
    /** Tokens per tile ({@link WeightFormat#dotBatch} takes up to 4). */
    private static final int TILE = 4;

    @Override
    protected void computeRows(int from, int to, int batch, float[] y, int yOff) {
        MemorySegment a = acts.segment();
        long stride = acts.rowBytes();
        boolean batched = batch > 1 && rows % 4 == 0;
        if (!batched) {
            for (int r = from; r < to; r++) {
                long row = r * rowBytes;
                for (int b = 0; b < batch; b++) {
                    y[yOff + b * rows + r] = format.dot(data, row, a, b * stride, cols);
                }
            }
            return;
        }
        for (int r0 = from; r0 < to; r0 += ROW_CHUNK) {
            int r1 = Math.min(to, r0 + ROW_CHUNK);
            for (int b = 0; b < batch; b += TILE) {
                int count = Math.min(TILE, batch - b);
                for (int r = r0; r < r1; r++) {
                    format.dotBatch(data, r * rowBytes, a, b * stride, stride, count, cols, y, yOff + b * rows + r, rows);
                }
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        format.dequantize(data, r * rowBytes, dst, off, cols);
    }
}
