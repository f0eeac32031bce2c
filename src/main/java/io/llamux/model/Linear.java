package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * A 2-D weight tensor used as a linear map, and the one place that says how ggml's shape
 * maps to rows and columns:
 *
 * <p><b>ggml {@code ne[0]} is the row length.</b> A weight with {@code ne = [cols, rows]}
 * stores {@code rows} rows of {@code cols} contiguous elements, and {@code y = W·x} means
 * {@code y[r] = row r · x}: it maps an input of length {@code ne[0]} to an output of length
 * {@code ne[1]}. So {@code ffn_down}, stored as {@code [ffnDim, dim]}, takes the ffnDim-wide
 * hidden vector to dim; {@code ffn_up} ({@code [dim, ffnDim]}) goes the other way. The token
 * embedding {@code [dim, vocab]} is one row per token, and the same layout makes it usable as
 * the (tied) output head.
 *
 * <p>A batch of activations is {@code batch} vectors of {@code cols} floats back to back; the
 * output is {@code batch} vectors of {@code rows} floats. Rows are split over threads; each
 * row is read once per batch and computed the same way whatever the thread count.
 */
public abstract class Linear {
    protected final String name;
    protected final GgmlType type;
    protected final int rows;
    protected final int cols;
    protected final MemorySegment data;
    protected final long rowBytes;
    private final Task task = new Task();

    protected Linear(TensorInfo t, MemorySegment data) {
        this.name = t.name();
        this.type = t.type();
        this.cols = Math.toIntExact(t.ne(0));
        this.rows = Math.toIntExact(t.rows());
        this.data = data;
        this.rowBytes = type.bytesFor(cols);
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    /** Output length: {@code ne[1]}. */
    public int rows() {
        return rows;
    }

    /** Input length: {@code ne[0]}. */
    public int cols() {
        return cols;
    }

    /** {@code y[b*rows + r] = row r · x[b*cols ...]} for every {@code b < batch}. */
    public final void matmul(float[] x, int batch, float[] y, WorkerPool pool) {
        matmul(x, batch, y, 0, pool);
    }

    /** As {@link #matmul(float[], int, float[], WorkerPool)}, writing from {@code y[yOff]}. */
    public final void matmul(float[] x, int batch, float[] y, int yOff, WorkerPool pool) {
        prepare(x, batch);
        task.batch = batch;
        task.y = y;
        task.yOff = yOff;
        pool.run(rows, task, (long) rows * cols * batch);
        task.y = null;
    }

    /** Writes row {@code r} as floats to {@code dst[off..off+cols)} (embedding lookup). */
    public abstract void dequantizeRow(int r, float[] dst, int off);

    /**
     * Converts the activations to what this weight type's dot product takes (llama.cpp's
     * "vec_dot_type": F16 for F16, Q8_0 for Q4_0, ...). Called once per matmul, before the
     * rows are split over threads.
     */
    protected abstract void prepare(float[] x, int batch);

    /** Computes rows {@code [from, to)} of every batch vector from the prepared activations. */
    protected abstract void computeRows(int from, int to, int batch, float[] y, int yOff);

    private final class Task implements WorkerPool.RangeTask {
        int batch;
        float[] y;
        int yOff;

        @Override
        public void run(int from, int to, int worker) {
            computeRows(from, to, batch, y, yOff);
        }
    }

    /** F32 weights: plain float dot products, activations used as they are (as in ggml). */
    static final class F32 extends Linear {
        private float[] x;

        F32(TensorInfo t, MemorySegment data) {
            super(t, data);
        }

        @Override
        protected void prepare(float[] x, int batch) {
            this.x = x;
        }

        @Override
        protected void computeRows(int from, int to, int batch, float[] y, int yOff) {
            for (int r = from; r < to; r++) {
                long off = r * rowBytes;
                for (int b = 0; b < batch; b++) {
                    y[yOff + b * rows + r] = VectorMath.dot(data, off, x, b * cols, cols);
                }
            }
        }

        @Override
        public void dequantizeRow(int r, float[] dst, int off) {
            MemorySegment.copy(data, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED
                    .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), r * rowBytes, dst, off, cols);
        }
    }
}
