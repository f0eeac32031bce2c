package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
        pool.run(items(batch), task(batch, y, yOff), work(batch));
    }

    private long work(int batch) {
        return (long) rows * cols * batch;
    }

    /** Work items a matmul of {@code batch} vectors is shared out in: rows, unless a subclass groups them. */
    protected int items(int batch) {
        return rows;
    }

    /** The task that computes items {@code [from, to)} of a matmul ({@link #computeRows} here). */
    protected WorkerPool.RangeTask task(int batch, float[] y, int yOff) {
        task.batch = batch;
        task.y = y;
        task.yOff = yOff;
        return task;
    }

    /**
     * Whether this weight's prepared activations are those {@code other} prepares from the same
     * input (same buffer, same conversion), so that after {@code other.prepare} this one needs
     * only {@link #adoptPrepared}.
     */
    protected boolean sharesPrepared(Linear other) {
        return false;
    }

    /** Takes the prepared activations {@link #sharesPrepared} said another weight left. */
    protected void adoptPrepared(int batch) {
        throw new UnsupportedOperationException(name);
    }

    /**
     * Matmuls of one input by several weights (Q, K and V; gate and up) as one job for the pool:
     * the input is converted once where the weights share a conversion, and the threads wait
     * for each other once, not once per weight. Reusable, allocates nothing per call.
     */
    public static final class Fused implements WorkerPool.RangeTask {
        private final Linear[] linears;
        private final boolean[] shared;
        private final WorkerPool.RangeTask[] tasks;
        private final int[] start;

        public Fused(Linear... linears) {
            this.linears = linears.clone();
            this.shared = new boolean[linears.length];
            for (int i = 1; i < linears.length; i++) {
                shared[i] = linears[i].sharesPrepared(linears[i - 1]);
            }
            this.tasks = new WorkerPool.RangeTask[linears.length];
            this.start = new int[linears.length + 1];
        }

        /** {@code y0 = W0 x}, {@code y1 = W1 x}, and {@code y2 = W2 x} where there is a third weight. */
        public void matmul(float[] x, int batch, float[] y0, float[] y1, float[] y2, WorkerPool pool) {
            long work = 0;
            for (int i = 0; i < linears.length; i++) {
                Linear l = linears[i];
                if (shared[i]) {
                    l.adoptPrepared(batch);
                } else {
                    l.prepare(x, batch);
                }
                tasks[i] = l.task(batch, i == 0 ? y0 : i == 1 ? y1 : y2, 0);
                start[i + 1] = start[i] + l.items(batch);
                work += l.work(batch);
            }
            pool.run(start[linears.length], this, work);
        }

        @Override
        public void run(int from, int to, int worker) {
            for (int i = 0; i < linears.length; i++) {
                int lo = Math.max(from, start[i]);
                int hi = Math.min(to, start[i + 1]);
                if (lo < hi) {
                    tasks[i].run(lo - start[i], hi - start[i], worker);
                }
            }
        }
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

    /**
     * F32 weights: activations used as they are, and the float sums added in the order
     * llama.cpp's CPU backend adds them, because gpt2's fp16 GELU table turns a one-ulp
     * difference into a visible one. One token (and shapes tinyBLAS refuses) goes through
     * ggml_vec_dot_f32; a batch through tinyBLAS's single 8-lane FMA chain, when the row length
     * is a multiple of 8 and the row count a multiple of 4.
     */
    static final class F32 extends Linear {
        private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
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
            boolean tiny = batch > 1 && cols % 8 == 0 && rows % 4 == 0;
            for (int r = from; r < to; r++) {
                long off = r * rowBytes;
                int b = 0;
                if (tiny) {
                    for (; b + 4 <= batch; b += 4) {
                        dotTiny4(off, b, y, yOff + b * rows + r);
                    }
                }
                for (; b < batch; b++) {
                    y[yOff + b * rows + r] = tiny ? dotTiny(off, b * cols)
                            : GgmlMath.dotVec(x, b * cols, data, off, cols);
                }
            }
        }

        /**
         * {@link #dotTiny} for four consecutive batch vectors at once: each weight load serves
         * four FMA chains; every output keeps its own chain, so the bits are the same.
         */
        private void dotTiny4(long off, int b, float[] y, int yAt) {
            var a0 = FloatVector.zero(S8);
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            int x0 = b * cols;
            for (int i = 0; i < cols; i += 8) {
                var wv = FloatVector.fromMemorySegment(S8, data, off + 4L * i, LE);
                a0 = wv.fma(FloatVector.fromArray(S8, x, x0 + i), a0);
                a1 = wv.fma(FloatVector.fromArray(S8, x, x0 + cols + i), a1);
                a2 = wv.fma(FloatVector.fromArray(S8, x, x0 + 2 * cols + i), a2);
                a3 = wv.fma(FloatVector.fromArray(S8, x, x0 + 3 * cols + i), a3);
            }
            y[yAt] = hsum8(a0);
            y[yAt + rows] = hsum8(a1);
            y[yAt + 2 * rows] = hsum8(a2);
            y[yAt + 3 * rows] = hsum8(a3);
        }

        private float dotTiny(long off, int xo) {
            var acc = FloatVector.zero(S8);
            for (int i = 0; i < cols; i += 8) {
                acc = FloatVector.fromMemorySegment(S8, data, off + 4L * i, LE)
                        .fma(FloatVector.fromArray(S8, x, xo + i), acc);
            }
            return hsum8(acc);
        }

        private static float hsum8(FloatVector v) {
            return GgmlMath.hsum8(v);
        }

        @Override
        public void dequantizeRow(int r, float[] dst, int off) {
            MemorySegment.copy(data, F32_LE, r * rowBytes, dst, off, cols);
        }

        private static final ValueLayout.OfFloat F32_LE =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    }
}
