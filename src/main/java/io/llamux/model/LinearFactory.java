package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.Activations;
import io.llamux.tensor.GgmlType;
import io.llamux.tensor.RepackedFormat;
import io.llamux.tensor.WeightFormat;
import io.llamux.tensor.WeightFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Makes the {@link Linear} for a tensor's type. Linears with the same activation format and
 * input length share one buffer of converted activations (matmuls run one after another),
 * sized for the largest batch.
 */
public final class LinearFactory {
    private final int maxBatch;
    private final WorkerPool pool;
    private final Arena arena;
    private final Map<String, Activations> buffers = new HashMap<>();
    private final Map<String, int[]> repackedBuffers = new HashMap<>();
    private final Map<String, ExpandedActivations> expandedBuffers = new HashMap<>();

    public LinearFactory(int maxBatch) {
        this(maxBatch, null, Arena.ofAuto());
    }

    /**
     * {@code pool}, when not null, shares out the repacking of weights at load time;
     * repacked weights that cannot stay where they lie are allocated in {@code arena}, so
     * whoever closes it frees them (an engine, when it closes).
     */
    public LinearFactory(int maxBatch, WorkerPool pool, Arena arena) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be positive: " + maxBatch);
        }
        this.maxBatch = maxBatch;
        this.pool = pool;
        this.arena = arena;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Whether tensors of this type can be multiplied. */
    public static boolean supports(GgmlType type) {
        return WeightFormats.isSupported(type);
    }

    public Linear create(TensorInfo t, MemorySegment data) {
        if (t.type() == GgmlType.F32) {
            return new Linear.F32(t, data);
        }
        WeightFormat f = WeightFormats.require(t.type(), t.name());
        int cols = Math.toIntExact(t.ne(0));
        RepackedFormat r = WeightFormats.repacked(t.type());
        int rows = Math.toIntExact(t.rows());
        if (r != null && RepackedLinear.fits(r, rows)) {
            int[] acts = repackedBuffers.computeIfAbsent(r.type() + "/" + cols,
                    k -> new int[RepackedLinear.activationInts(r, cols, maxBatch)]);
            ExpandedActivations expanded = expandedBuffers.computeIfAbsent(r.type() + "/" + cols,
                    k -> new ExpandedActivations(r.panelLayout(), cols, maxBatch));
            return new RepackedLinear(t, data, r, acts, expanded, pool, arena);
        }
        Activations acts = buffers.computeIfAbsent(f.activationType() + "/" + cols,
                k -> new Activations(f.activationType(), cols, maxBatch));
        return new FormatLinear(t, data, f, acts);
    }
}
