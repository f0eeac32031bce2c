package io.llamux.model;

import io.llamux.tensor.PanelKernel;
import io.llamux.tensor.PanelLayout;

/**
 * A prompt's activations as the floats their quants stand for ({@code RepackedFormat.expandActivation}),
 * shared by every weight of the same activation type and input length (matmuls run in turn).
 * Allocated at the first prompt that needs it, at the largest batch, so generation alone never
 * holds it.
 */
final class ExpandedActivations {
    private final PanelLayout layout;
    private final int cols;
    private final int maxBatch;
    private float[] values;

    ExpandedActivations(PanelLayout layout, int cols, int maxBatch) {
        this.layout = layout;
        this.cols = cols;
        this.maxBatch = maxBatch;
    }

    /** Room for {@code batch} expanded vectors of {@code cols}, back to back. */
    float[] forBatch(int batch) {
        if (batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " is larger than " + maxBatch);
        }
        if (values == null) {
            values = new float[PanelKernel.activationFloats(layout, cols, maxBatch)];
        }
        return values;
    }
}
