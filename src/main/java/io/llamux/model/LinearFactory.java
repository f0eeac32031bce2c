package io.llamux.model;

import io.llamux.gguf.TensorInfo;
import java.lang.foreign.MemorySegment;

/**
 * Makes the {@link Linear} for a tensor's type. All linears of one model share one buffer
 * for converted activations (matmuls run one after another), sized for the largest batch.
 */
public final class LinearFactory {
    private final int maxBatch;

    public LinearFactory(int maxBatch) {
        this.maxBatch = maxBatch;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Whether tensors of this type can be multiplied. */
    public static boolean supports(io.llamux.tensor.GgmlType type) {
        return type == io.llamux.tensor.GgmlType.F32;
    }

    public Linear create(TensorInfo t, MemorySegment data) {
        return switch (t.type()) {
            case F32 -> new Linear.F32(t, data);
            default -> throw new IllegalArgumentException("tensor " + t.name() + ": type " + t.type()
                    + " is not supported yet");
        };
    }
}
