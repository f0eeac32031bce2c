package io.llamux.tensor;

/**
 * How a weight type's groups of weights sharing one float scale lie in a {@link PanelKernel}
 * panel, and its activations beside them.
 *
 * @param groupElements weights per scale: 32 (Q4_0, Q8_0) or a 256-weight super-block (Q4_K)
 * @param panelSide     floats after a group's weights in a panel: the row scales (16), and for
 *                      Q4_K the rows' eight mins and their scale too
 * @param actSide       floats per group of an expanded activation vector after its quants: the
 *                      scale, and for Q4_K the eight sub-block sums of the quants
 * @param lanes         float sums per row and group kept apart until the end, in ggml's order
 *                      (Q4_K: ggml's eight lanes, blocks of 32 of the panel); 1: one exact sum
 *                      per group, scaled once (Q6_K's super-block, as its matrix-vector kernel)
 */
public record PanelLayout(int groupElements, int panelSide, int actSide, int lanes) {

    /** Q4_0 and Q8_0: blocks of 32 and one scale each. */
    public static final PanelLayout BLOCKS_OF_32 = new PanelLayout(32, PanelKernel.ROWS, 1, 1);

    /** Q6_K: super-blocks of 256, the 8-bit sub-block scales folded into the weights. */
    public static final PanelLayout Q6_K = new PanelLayout(256, PanelKernel.ROWS, 1, 1);

    /** Q4_K: super-blocks of 256, sub-block scales folded into the weights, mins beside them. */
    public static final PanelLayout Q4_K = new PanelLayout(256, PanelKernel.ROWS * 10, 9, 8);

    /** Whether the mins term of a K-quant is added (see PanelKernel). */
    boolean mins() {
        return lanes > 1;
    }

    /** Blocks of 32 weights in a group. */
    int blocks() {
        return groupElements / PanelKernel.QK;
    }

    /** Floats of one group of sixteen rows in a panel. */
    int groupFloats() {
        return PanelKernel.ROWS * groupElements + panelSide;
    }
}
