package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.AnonymousMemory;
import io.llamux.tensor.PanelKernel;
import io.llamux.tensor.PanelLayout;
import io.llamux.tensor.RepackedFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A weight in its type's {@link RepackedFormat} layout, rearranged at load time. Where the
 * model's bytes are this process's own writable copy (the daemon's huge pages) and the layout
 * takes exactly the bytes of the rows it interleaves (Q4_0, Q4_K, Q8_0), each group of rows
 * is rearranged where it lies; otherwise into new memory off the Java heap, and pages of a mapped file are
 * then dropped from this process's resident set (they stay in the page cache): llama.cpp
 * unmaps what it repacked the same way. So a mapped model takes its file's size in memory
 * once, plus what a layout adds (a quarter of the Q6_K tensors).
 *
 * <p>Work is split over threads by groups of interleaved rows; a prompt runs every token
 * through one group before the next, so the group's weights are read from memory once and
 * from cache for the other tokens.
 */
final class RepackedLinear extends Linear {
    /** Prepared activations a prompt tile takes: half of one core's L2 (Zen 3: 512 KiB). */
    private static final long TILE_BYTES = Long.getLong("llamux.tileBytes", 256 << 10);

    private final RepackedFormat format;
    private final int groupRows;
    private final MemorySegment packed;
    private final long groupBytes;
    private final int[] acts;
    private final int actStride;
    private final int tokenTile;
    private final Task task = new Task();
    private final PanelTask panelTask = new PanelTask();
    private final ExpandedActivations expanded;
    private final PanelLayout layout;
    private final int panelMinBatch;
    private float[] xq;

    /**
     * {@code acts} is shared by every weight of the same format and input length (matmuls run
     * in turn). A writable {@code data} is rewritten (see GgufFile.parseOwnCopy), else the
     * layout is allocated in {@code arena}.
     */
    RepackedLinear(TensorInfo t, MemorySegment data, RepackedFormat format, int[] acts,
                   ExpandedActivations expanded, WorkerPool pool, Arena arena) {
        super(t, MemorySegment.NULL);
        this.format = format;
        this.groupRows = format.rows();
        if (rows % groupRows != 0) {
            throw new IllegalArgumentException(name + ": " + rows + " rows is not a multiple of " + groupRows);
        }
        this.groupBytes = format.groupBytes(cols);
        this.actStride = activationStride(format, cols);
        this.acts = acts;
        this.expanded = expanded;
        this.layout = format.panelLayout();
        this.panelMinBatch = panelMinBatch(format);
        this.tokenTile = (int) Math.max(1, Math.min(Integer.MAX_VALUE, TILE_BYTES / ((long) Integer.BYTES * actStride)));
        boolean rewrite = !data.isReadOnly() && groupBytes == groupRows * rowBytes;
        this.packed = rewrite ? data : offPage(arena, groupBytes * (rows / groupRows));
        WorkerPool.RangeTask repack = (from, to, worker) -> {
            try (Arena scratch = Arena.ofConfined()) {
                MemorySegment group = rewrite ? scratch.allocate(groupBytes, 64) : null;
                for (int g = from; g < to; g++) {
                    long src = g * groupRows * rowBytes;
                    long at = g * groupBytes;
                    if (rewrite) {
                        group.copyFrom(data.asSlice(src, groupBytes));
                        format.repack(group, 0, rowBytes, packed, at, cols);
                    } else {
                        format.repack(data, src, rowBytes, packed, at, cols);
                    }
                }
            }
        };
        if (pool != null) {
            pool.run(rows / groupRows, repack, (long) rows * cols);
        } else {
            repack.run(0, rows / groupRows, 0);
        }
        if (!rewrite && data.isMapped()) {
            data.unload();
        }
    }

    /**
     * {@code bytes} of new memory starting one cache line past a page boundary. Page-aligned,
     * the Q4_K kernel streamed 10 GB/s from DRAM in most processes and 23 in the others (one
     * thread, 131072 x 2048); one line or two further on, 23 in every run (8 of 8; Q4_0, Q8_0,
     * Q6_K the same either way). Why is not known: a measured effect, kept until it is.
     */
    private static MemorySegment offPage(Arena arena, long bytes) {
        return AnonymousMemory.allocate(arena, bytes + PAGE_SKEW, true).asSlice(PAGE_SKEW, bytes);
    }

    private static final long PAGE_SKEW = 64;

    /** Ints from one token's prepared activations to the next's: a whole number of cache lines. */
    private static int activationStride(RepackedFormat format, int cols) {
        return (format.activationInts(cols) + 15) & -16;
    }

    /**
     * Ints of prepared activations for batches of up to {@code maxBatch} vectors of {@code cols}:
     * those of the batches that do not go through panels.
     */
    static int activationInts(RepackedFormat format, int cols, int maxBatch) {
        int batch = format.panelLayout() != null ? Math.min(maxBatch, panelMinBatch(format) - 1) : maxBatch;
        return Math.multiplyExact(activationStride(format, cols), Math.max(1, batch));
    }

    /** {@link RepackedFormat#panelMinBatch}, unless the property sets one for every type (to measure). */
    private static int panelMinBatch(RepackedFormat format) {
        return Math.max(1, Integer.getInteger("llamux.panelMinBatch", format.panelMinBatch()));
    }

    private boolean panels(int batch) {
        return layout != null && batch >= panelMinBatch;
    }

    /** Whether a {@code rows}-row matrix can take {@code format}'s layout. */
    static boolean fits(RepackedFormat format, int rows) {
        return rows % format.rows() == 0;
    }

    @Override
    protected void prepare(float[] x, int batch) {
        if (panels(batch)) {
            xq = expanded.forBatch(batch);
            for (int b = 0; b < batch; b++) {
                format.expandActivation(x, b * cols, cols, xq, PanelKernel.activationOffset(layout, cols, b));
            }
            PanelKernel.padActivations(layout, xq, cols, batch);
            return;
        }
        for (int b = 0; b < batch; b++) {
            format.prepareActivation(x, b * cols, cols, acts, b * actStride);
        }
    }

    @Override
    protected void computeRows(int from, int to, int batch, float[] y, int yOff) {
        throw new AssertionError("split by row groups");
    }

    @Override
    protected int items(int batch) {
        return panels(batch) ? (rows + PanelKernel.ROWS - 1) / PanelKernel.ROWS : rows / groupRows;
    }

    @Override
    protected WorkerPool.RangeTask task(int batch, float[] y, int yOff) {
        if (panels(batch)) {
            panelTask.batch = batch;
            panelTask.y = y;
            panelTask.yOff = yOff;
            return panelTask;
        }
        task.batch = batch;
        task.y = y;
        task.yOff = yOff;
        return task;
    }

    @Override
    protected boolean sharesPrepared(Linear other) {
        return other instanceof RepackedLinear r && r.format == format && r.acts == acts && r.expanded == expanded
                && r.cols == cols;
    }

    @Override
    protected void adoptPrepared(int batch) {
        if (panels(batch)) {
            xq = expanded.forBatch(batch);
        }
    }

    private final class Task implements WorkerPool.RangeTask {
        int batch;
        float[] y;
        int yOff;

        @Override
        public void run(int from, int to, int worker) {
            for (int t0 = 0; t0 < batch; t0 += tokenTile) {
                int t1 = Math.min(batch, t0 + tokenTile);
                for (int g = from; g < to; g++) {
                    long w = g * groupBytes;
                    for (int b = t0; b < t1; b++) {
                        format.matvec(packed, w, acts, b * actStride, cols, y, yOff + b * rows + g * groupRows);
                    }
                }
            }
        }
    }

    /** Each worker's panel, grown to the longest rows it has expanded. */
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    private final class PanelTask implements WorkerPool.RangeTask {
        int batch;
        float[] y;
        int yOff;

        @Override
        public void run(int from, int to, int worker) {
            float[] panel = PANEL.get();
            if (panel.length < PanelKernel.panelFloats(layout, cols)) {
                panel = new float[PanelKernel.panelFloats(layout, cols)];
                PANEL.set(panel);
            }
            for (int p = from; p < to; p++) {
                int row = p * PanelKernel.ROWS;
                int n = Math.min(PanelKernel.ROWS, rows - row);
                for (int r = 0; r < n; r += groupRows) {
                    format.expandGroup(packed, ((row + r) / groupRows) * groupBytes, cols, panel, r);
                }
                PanelKernel.multiply(layout, panel, cols, n, xq, batch, y, yOff + row, rows);
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        format.dequantizeRow(packed, (r / groupRows) * groupBytes, r % groupRows, dst, off, cols);
    }
}
