package io.llamux.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The prompt's matrix-matrix product for weights in blocks of 32 with one scale each (Q4_0,
 * Q8_0), against activations quantized to Q8_0: sixteen rows of weights, expanded once to
 * floats, times four tokens at a time. Against the matrix-vector kernels, which unpack every
 * weight block again for every token, this unpacks it once per batch, and each pair of weight
 * vectors loaded serves eight FMAs.
 *
 * <p>The quants are expanded as they are (small integers, exact in float), so a block's 32
 * products are summed exactly, as ggml sums them in ints (each product is below 2^14 and the
 * sum below 2^19, far inside float's 2^24); then the block sum is multiplied by the two scales
 * and added, in float, as ggml does. Only the order of those float additions differs from
 * ggml's, as in the matrix-vector kernels. Summing the scaled products element by element
 * instead moved synthetic-Q8_0 logits by 9e-3: the rounding of thousands of products flips an
 * activation quant downstream now and then.
 *
 * <p>Eight block sums, eight chains of FMAs (an FMA takes four cycles, two start each cycle),
 * two weight vectors and the broadcasts fit AVX2's sixteen registers.
 *
 * <p>A panel is, for block column c, at {@code PANEL_BLOCK * c}: element j of panel row r (0..15)
 * at {@code 16 j + r}, then the row scales at {@code 512 + r}. Expanded activations come in
 * groups of four tokens, interleaved, so that one index reaches all four: a group is element e
 * of token t at {@code 4 e + t}, then block c's scale of token t at {@code 4 cols + 4 c + t}.
 */
public final class PanelKernel {

    /** Rows of a panel: two float vectors of eight lanes. */
    public static final int ROWS = 16;
    /** Elements of a block. */
    public static final int QK = 32;
    /** Floats of one block column of a panel. */
    public static final int PANEL_BLOCK = ROWS * QK + ROWS;
    /** Tokens per pass over a panel. */
    public static final int TOKENS = 4;

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    private PanelKernel() {
    }

    /** Floats of a panel for rows of {@code cols}, with room for a pass's totals. */
    public static int panelFloats(int cols) {
        return cols / QK * PANEL_BLOCK + ROWS * TOKENS;
    }

    /** Floats of {@code batch} expanded activation vectors of {@code cols} (see the class comment). */
    public static int activationFloats(int cols, int batch) {
        return quads(batch) * quadFloats(cols);
    }

    /** Where token {@code t}'s expanded activations start, each element {@link #TOKENS} floats from the last. */
    public static int activationOffset(int cols, int t) {
        return t / TOKENS * quadFloats(cols) + t % TOKENS;
    }

    private static int quads(int batch) {
        return (batch + TOKENS - 1) / TOKENS;
    }

    private static int quadFloats(int cols) {
        return TOKENS * (cols + cols / QK);
    }

    /**
     * Zeroes the expanded activations of the tokens from {@code batch} to the end of its last
     * group of {@link #TOKENS}, which a pass computes and does not store.
     */
    public static void padActivations(float[] x, int cols, int batch) {
        for (int t = batch; t % TOKENS != 0; t++) {
            int at = activationOffset(cols, t);
            for (int i = 0; i < cols + cols / QK; i++) {
                x[at + TOKENS * i] = 0;
            }
        }
    }

    /**
     * {@code y[yOff + t * yStride + r] = panel row r . x's vector t} for every token
     * {@code t < batch} and panel row {@code r < rows} (rows 1..16; panel rows beyond are not
     * stored).
     */
    public static void multiply(float[] panel, int cols, int rows, float[] x, int batch, float[] y, int yOff,
                                int yStride) {
        for (int t = 0; t < batch; t += TOKENS) {
            pass(panel, cols, rows, x, t / TOKENS * quadFloats(cols), Math.min(TOKENS, batch - t), y,
                    yOff + t * yStride, yStride);
        }
    }

    private static void pass(float[] panel, int cols, int rows, float[] x, int xq, int tokens, float[] y, int yOff,
                             int yStride) {
        // The totals live in the panel's tail, not in registers: C2 would spill them, and a
        // load and a store per block are cheap beside 256 FMAs.
        int blocks = cols / QK;
        int acc = blocks * PANEL_BLOCK;
        int scales = xq + TOKENS * cols;
        FloatVector zero = FloatVector.zero(F8);
        for (int i = 0; i < 2 * TOKENS; i++) {
            zero.intoArray(panel, acc + 8 * i);
        }
        for (int c = 0; c < blocks; c++) {
            int base = PANEL_BLOCK * c;
            int xb = xq + TOKENS * QK * c;
            FloatVector s00 = zero;
            FloatVector s01 = zero;
            FloatVector s10 = zero;
            FloatVector s11 = zero;
            FloatVector s20 = zero;
            FloatVector s21 = zero;
            FloatVector s30 = zero;
            FloatVector s31 = zero;
            for (int j = 0; j < QK; j++) {
                int w = base + ROWS * j;
                int a = xb + TOKENS * j;
                FloatVector w0 = FloatVector.fromArray(F8, panel, w);
                FloatVector w1 = FloatVector.fromArray(F8, panel, w + 8);
                FloatVector a0 = FloatVector.broadcast(F8, x[a]);
                s00 = w0.fma(a0, s00);
                s01 = w1.fma(a0, s01);
                FloatVector a1 = FloatVector.broadcast(F8, x[a + 1]);
                s10 = w0.fma(a1, s10);
                s11 = w1.fma(a1, s11);
                FloatVector a2 = FloatVector.broadcast(F8, x[a + 2]);
                s20 = w0.fma(a2, s20);
                s21 = w1.fma(a2, s21);
                FloatVector a3 = FloatVector.broadcast(F8, x[a + 3]);
                s30 = w0.fma(a3, s30);
                s31 = w1.fma(a3, s31);
            }
            FloatVector d0 = FloatVector.fromArray(F8, panel, base + ROWS * QK);
            FloatVector d1 = FloatVector.fromArray(F8, panel, base + ROWS * QK + 8);
            int sc = scales + TOKENS * c;
            FloatVector a = FloatVector.broadcast(F8, x[sc]);
            s00.mul(a).fma(d0, FloatVector.fromArray(F8, panel, acc)).intoArray(panel, acc);
            s01.mul(a).fma(d1, FloatVector.fromArray(F8, panel, acc + 8)).intoArray(panel, acc + 8);
            a = FloatVector.broadcast(F8, x[sc + 1]);
            s10.mul(a).fma(d0, FloatVector.fromArray(F8, panel, acc + 16)).intoArray(panel, acc + 16);
            s11.mul(a).fma(d1, FloatVector.fromArray(F8, panel, acc + 24)).intoArray(panel, acc + 24);
            a = FloatVector.broadcast(F8, x[sc + 2]);
            s20.mul(a).fma(d0, FloatVector.fromArray(F8, panel, acc + 32)).intoArray(panel, acc + 32);
            s21.mul(a).fma(d1, FloatVector.fromArray(F8, panel, acc + 40)).intoArray(panel, acc + 40);
            a = FloatVector.broadcast(F8, x[sc + 3]);
            s30.mul(a).fma(d0, FloatVector.fromArray(F8, panel, acc + 48)).intoArray(panel, acc + 48);
            s31.mul(a).fma(d1, FloatVector.fromArray(F8, panel, acc + 56)).intoArray(panel, acc + 56);
        }
        for (int t = 0; t < tokens; t++) {
            store(FloatVector.fromArray(F8, panel, acc + 16 * t), FloatVector.fromArray(F8, panel, acc + 16 * t + 8),
                    rows, y, yOff + t * yStride);
        }
    }

    private static void store(FloatVector lo, FloatVector hi, int rows, float[] y, int at) {
        if (rows == ROWS) {
            lo.intoArray(y, at);
            hi.intoArray(y, at + 8);
            return;
        }
        for (int r = 0; r < rows; r++) {
            y[at + r] = r < 8 ? lo.lane(r) : hi.lane(r - 8);
        }
    }
}
