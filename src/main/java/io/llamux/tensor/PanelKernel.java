package io.llamux.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The prompt's matrix-matrix product: sixteen rows of weights, expanded once to floats, times
 * four tokens at a time of activations quantized as llama.cpp quantizes them. Against the
 * matrix-vector kernels, which unpack every weight block again for every token, this unpacks
 * it once per batch, and each pair of weight vectors loaded serves eight FMAs.
 *
 * <p>The quants are expanded as small integers (Q4_K's times their 6-bit sub-block scales),
 * exact in float, so the products of a block of 32 are summed exactly, as ggml sums them in
 * ints: each product is below 2^14 and every sum below 2^23, inside float's 2^24. The float
 * operations that follow are ggml's: per group of weights sharing a scale, the sum times
 * (weight scale times activation scale), added by FMA. For Q4_0 and Q8_0 the order of those
 * additions is free, as in the matrix-vector kernels; summing scaled products element by
 * element instead moved synthetic-Q8_0 logits by 9e-3 (the rounding of thousands of products
 * flips an activation quant downstream now and then). For Q4_K it is ggml's exactly (see
 * {@link Q4_Kx8}): ggml's eight int lanes (elements 4l..4l+3 of every sub-block) are the panel's
 * blocks of 32 in a super-block, each added into a float sum of its own, then the eight and
 * the four sums of the mins term added in ggml's order (hsum_float_8).
 *
 * <p>Eight block sums, eight chains of FMAs (an FMA takes four cycles, two start each cycle),
 * two weight vectors and the broadcasts fit AVX2's sixteen registers. The float sums live in
 * the panel's tail, not in registers: C2 would spill them, and a load and a store per block
 * are cheap beside 256 FMAs.
 *
 * <p>A panel is, for each group g at {@code g * layout.groupFloats()}: for each of its blocks of
 * 32 i, at {@code 512 i}, element j of panel row r (0..15) at {@code 16 j + r}; then the row
 * scales at {@code 512 blocks + r}; for Q4_K then sub-block s's mins at {@code + 16 + 16 s + r}
 * and the min scales at {@code + 144 + r}. Expanded activations come in groups of four tokens,
 * interleaved, so that one index reaches all four: element e of token t at {@code 4 e + t},
 * then for group g field f (0: the scale; Q4_K: 1 + s, sub-block s's sum of quants) at
 * {@code 4 cols + 4 (actSide g + f) + t}. A Q4_K super-block's elements are in the panel's order:
 * element 32s + 4l + j at 32l + 4s + j.
 */
public final class PanelKernel {

    /** Rows of a panel: two float vectors of eight lanes. */
    public static final int ROWS = 16;
    /** Elements of a block. */
    public static final int QK = 32;
    /** Tokens per pass over a panel. */
    public static final int TOKENS = 4;

    private static final int BLOCK_FLOATS = ROWS * QK;
    /** Floats of one float sum of a pass: two vectors for each of its tokens. */
    private static final int SUM_FLOATS = ROWS * TOKENS;
    private static final int MIN_LANES = 4;

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    /** Whether a panel row group is one 512-bit vector (AVX-512) rather than two of 256 bits. */
    static final boolean WIDE = Simd.F.vectorBitSize() >= 512;

    private PanelKernel() {
    }

    /** Floats of a panel for rows of {@code cols}, with room for a pass's sums. */
    public static int panelFloats(PanelLayout layout, int cols) {
        return groups(layout, cols) * layout.groupFloats() + 2 * sumsFloats(layout);
    }

    private static int groups(PanelLayout layout, int cols) {
        return cols / layout.groupElements();
    }

    /** Floats of {@code batch} expanded activation vectors of {@code cols} (see the class comment). */
    public static int activationFloats(PanelLayout layout, int cols, int batch) {
        return (batch + TOKENS - 1) / TOKENS * quadFloats(layout, cols);
    }

    /** Where token {@code t}'s expanded activations start, each value {@link #TOKENS} floats from the last. */
    public static int activationOffset(PanelLayout layout, int cols, int t) {
        return t / TOKENS * quadFloats(layout, cols) + t % TOKENS;
    }

    private static int quadFloats(PanelLayout layout, int cols) {
        return TOKENS * (cols + groups(layout, cols) * layout.actSide());
    }

    /**
     * Zeroes the expanded activations of the tokens from {@code batch} to the end of its last
     * group of {@link #TOKENS}, which a pass computes and does not store.
     */
    public static void padActivations(PanelLayout layout, float[] x, int cols, int batch) {
        for (int t = batch; t % TOKENS != 0; t++) {
            int at = activationOffset(layout, cols, t);
            for (int i = 0; i < cols + groups(layout, cols) * layout.actSide(); i++) {
                x[at + TOKENS * i] = 0;
            }
        }
    }

    /**
     * {@code y[yOff + t * yStride + r] = panel row r . x's vector t} for every token
     * {@code t < batch} and panel row {@code r < rows} (rows 1..16; panel rows beyond are not
     * stored).
     */
    public static void multiply(PanelLayout layout, float[] panel, int cols, int rows, float[] x, int batch,
                                float[] y, int yOff, int yStride) {
        int sums = groups(layout, cols) * layout.groupFloats();
        int t = 0;
        if (WIDE) {
            // Two groups of four tokens a pass while there are more than four left.
            int sums2 = sums + sumsFloats(layout);
            for (; batch - t > TOKENS; t += 2 * TOKENS) {
                int xq = activationOffset(layout, cols, t);
                int xq2 = activationOffset(layout, cols, t + TOKENS);
                passWide(layout, panel, cols, x, xq, xq2, sums, sums2);
                finish(layout, panel, cols, rows, x, xq, sums, TOKENS, y, yOff + t * yStride, yStride);
                finish(layout, panel, cols, rows, x, xq2, sums2, batch - t - TOKENS, y, yOff + (t + TOKENS) * yStride, yStride);
            }
        }
        for (; t < batch; t += TOKENS) {
            int xq = activationOffset(layout, cols, t);
            if (WIDE) {
                passWide(layout, panel, cols, x, xq, sums);
            } else {
                pass(layout, panel, cols, x, xq, sums);
            }
            finish(layout, panel, cols, rows, x, xq, sums, batch - t, y, yOff + t * yStride, yStride);
        }
    }

    /** Floats of one pass's sums (ggml's lanes, then the mins lanes). */
    private static int sumsFloats(PanelLayout layout) {
        return (layout.lanes() + MIN_LANES) * SUM_FLOATS;
    }

    /** The mins term (Q4_K) and the stores of the first {@code tokens} (at most four) of a pass at {@code sums}. */
    private static void finish(PanelLayout layout, float[] panel, int cols, int rows, float[] x, int xq, int sums,
                               int tokens, float[] y, int yOff, int yStride) {
        if (layout.mins()) {
            if (WIDE) {
                minsWide(layout, panel, cols, x, xq, sums + layout.lanes() * SUM_FLOATS);
            } else {
                mins(layout, panel, cols, x, xq, sums + layout.lanes() * SUM_FLOATS);
            }
        }
        for (int i = 0; i < Math.min(TOKENS, tokens); i++) {
            store(layout, panel, sums + ROWS * i, rows, y, yOff + i * yStride);
        }
    }

    private static void pass(PanelLayout layout, float[] panel, int cols, float[] x, int xq, int sums) {
        FloatVector zero = FloatVector.zero(F8);
        for (int i = 0; i < layout.lanes() * SUM_FLOATS; i += 8) {
            zero.intoArray(panel, sums + i);
        }
        int blocks = layout.blocks();
        int groups = groups(layout, cols);
        int scales = xq + TOKENS * cols;
        for (int g = 0; g < groups; g++) {
            int gBase = g * layout.groupFloats();
            int dAt = gBase + blocks * BLOCK_FLOATS;
            int daAt = scales + TOKENS * layout.actSide() * g;
            FloatVector s00 = zero;
            FloatVector s01 = zero;
            FloatVector s10 = zero;
            FloatVector s11 = zero;
            FloatVector s20 = zero;
            FloatVector s21 = zero;
            FloatVector s30 = zero;
            FloatVector s31 = zero;
            for (int i = 0; i < blocks; i++) {
                int base = gBase + BLOCK_FLOATS * i;
                int xb = xq + TOKENS * (layout.groupElements() * g + QK * i);
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
                // One sum per group (lanes 1) is scaled after its last block; ggml's lanes, each
                // block: acc = fma(d * da, sum, acc), as ggml. Written out: a call that C2 compiled
                // on its own first is not inlined, and the vectors crossing it are then boxed.
                if (layout.lanes() > 1 || i == blocks - 1) {
                    FloatVector d0 = FloatVector.fromArray(F8, panel, dAt);
                    FloatVector d1 = FloatVector.fromArray(F8, panel, dAt + 8);
                    int acc = sums + SUM_FLOATS * (layout.lanes() > 1 ? i : 0);
                    s00.fma(d0.mul(x[daAt]), FloatVector.fromArray(F8, panel, acc)).intoArray(panel, acc);
                    s01.fma(d1.mul(x[daAt]), FloatVector.fromArray(F8, panel, acc + 8)).intoArray(panel, acc + 8);
                    s10.fma(d0.mul(x[daAt + 1]), FloatVector.fromArray(F8, panel, acc + ROWS)).intoArray(panel, acc + ROWS);
                    s11.fma(d1.mul(x[daAt + 1]), FloatVector.fromArray(F8, panel, acc + ROWS + 8)).intoArray(panel, acc + ROWS + 8);
                    s20.fma(d0.mul(x[daAt + 2]), FloatVector.fromArray(F8, panel, acc + 2 * ROWS)).intoArray(panel, acc + 2 * ROWS);
                    s21.fma(d1.mul(x[daAt + 2]), FloatVector.fromArray(F8, panel, acc + 2 * ROWS + 8)).intoArray(panel, acc + 2 * ROWS + 8);
                    s30.fma(d0.mul(x[daAt + 3]), FloatVector.fromArray(F8, panel, acc + 3 * ROWS)).intoArray(panel, acc + 3 * ROWS);
                    s31.fma(d1.mul(x[daAt + 3]), FloatVector.fromArray(F8, panel, acc + 3 * ROWS + 8)).intoArray(panel, acc + 3 * ROWS + 8);
                    s00 = zero;
                    s01 = zero;
                    s10 = zero;
                    s11 = zero;
                    s20 = zero;
                    s21 = zero;
                    s30 = zero;
                    s31 = zero;
                }
            }
        }
    }

    /**
     * {@link #pass} with the sixteen rows in one 512-bit vector. Four tokens are then only four
     * chains of FMAs, too few to keep both FMA pipes busy (four cycles each), so even and odd
     * elements of a block go to separate sums, added at the block's end: eight chains. The
     * products are integers and every partial sum is below 2^24, so the block's sum is the same
     * exact integer in any order.
     */
    private static void passWide(PanelLayout layout, float[] panel, int cols, float[] x, int xq, int sums) {
        FloatVector zero = FloatVector.zero(F16);
        for (int i = 0; i < layout.lanes() * SUM_FLOATS; i += ROWS) {
            zero.intoArray(panel, sums + i);
        }
        int blocks = layout.blocks();
        int groups = groups(layout, cols);
        int scales = xq + TOKENS * cols;
        for (int g = 0; g < groups; g++) {
            int gBase = g * layout.groupFloats();
            int dAt = gBase + blocks * BLOCK_FLOATS;
            int daAt = scales + TOKENS * layout.actSide() * g;
            FloatVector s0 = zero;
            FloatVector s1 = zero;
            FloatVector s2 = zero;
            FloatVector s3 = zero;
            FloatVector u0 = zero;
            FloatVector u1 = zero;
            FloatVector u2 = zero;
            FloatVector u3 = zero;
            for (int i = 0; i < blocks; i++) {
                int base = gBase + BLOCK_FLOATS * i;
                int xb = xq + TOKENS * (layout.groupElements() * g + QK * i);
                for (int j = 0; j < QK; j += 2) {
                    int w = base + ROWS * j;
                    int a = xb + TOKENS * j;
                    FloatVector w0 = FloatVector.fromArray(F16, panel, w);
                    FloatVector w1 = FloatVector.fromArray(F16, panel, w + ROWS);
                    s0 = w0.fma(FloatVector.broadcast(F16, x[a]), s0);
                    s1 = w0.fma(FloatVector.broadcast(F16, x[a + 1]), s1);
                    s2 = w0.fma(FloatVector.broadcast(F16, x[a + 2]), s2);
                    s3 = w0.fma(FloatVector.broadcast(F16, x[a + 3]), s3);
                    u0 = w1.fma(FloatVector.broadcast(F16, x[a + 4]), u0);
                    u1 = w1.fma(FloatVector.broadcast(F16, x[a + 5]), u1);
                    u2 = w1.fma(FloatVector.broadcast(F16, x[a + 6]), u2);
                    u3 = w1.fma(FloatVector.broadcast(F16, x[a + 7]), u3);
                }
                if (layout.lanes() > 1 || i == blocks - 1) {
                    FloatVector d = FloatVector.fromArray(F16, panel, dAt);
                    int acc = sums + SUM_FLOATS * (layout.lanes() > 1 ? i : 0);
                    s0.add(u0).fma(d.mul(x[daAt]), FloatVector.fromArray(F16, panel, acc)).intoArray(panel, acc);
                    s1.add(u1).fma(d.mul(x[daAt + 1]), FloatVector.fromArray(F16, panel, acc + ROWS))
                            .intoArray(panel, acc + ROWS);
                    s2.add(u2).fma(d.mul(x[daAt + 2]), FloatVector.fromArray(F16, panel, acc + 2 * ROWS))
                            .intoArray(panel, acc + 2 * ROWS);
                    s3.add(u3).fma(d.mul(x[daAt + 3]), FloatVector.fromArray(F16, panel, acc + 3 * ROWS))
                            .intoArray(panel, acc + 3 * ROWS);
                    s0 = zero;
                    s1 = zero;
                    s2 = zero;
                    s3 = zero;
                    u0 = zero;
                    u1 = zero;
                    u2 = zero;
                    u3 = zero;
                }
            }
        }
    }

    /**
     * {@link #passWide} for eight tokens, the four at {@code xq} into {@code sums} and the four
     * at {@code xq2} into {@code sums2}: each weight vector loaded serves eight FMAs, eight
     * chains, and a panel is read from the cache half as often.
     */
    private static void passWide(PanelLayout layout, float[] panel, int cols, float[] x, int xq, int xq2,
                                 int sums, int sums2) {
        FloatVector zero = FloatVector.zero(F16);
        for (int i = 0; i < layout.lanes() * SUM_FLOATS; i += ROWS) {
            zero.intoArray(panel, sums + i);
            zero.intoArray(panel, sums2 + i);
        }
        int blocks = layout.blocks();
        int groups = groups(layout, cols);
        int scales = xq + TOKENS * cols;
        int scales2 = xq2 + TOKENS * cols;
        for (int g = 0; g < groups; g++) {
            int gBase = g * layout.groupFloats();
            int dAt = gBase + blocks * BLOCK_FLOATS;
            int side = TOKENS * layout.actSide() * g;
            FloatVector s0 = zero;
            FloatVector s1 = zero;
            FloatVector s2 = zero;
            FloatVector s3 = zero;
            FloatVector u0 = zero;
            FloatVector u1 = zero;
            FloatVector u2 = zero;
            FloatVector u3 = zero;
            for (int i = 0; i < blocks; i++) {
                int base = gBase + BLOCK_FLOATS * i;
                int e = TOKENS * (layout.groupElements() * g + QK * i);
                int xb = xq + e;
                int xb2 = xq2 + e;
                for (int j = 0; j < QK; j++) {
                    int a = xb + TOKENS * j;
                    int a2 = xb2 + TOKENS * j;
                    FloatVector w = FloatVector.fromArray(F16, panel, base + ROWS * j);
                    s0 = w.fma(FloatVector.broadcast(F16, x[a]), s0);
                    s1 = w.fma(FloatVector.broadcast(F16, x[a + 1]), s1);
                    s2 = w.fma(FloatVector.broadcast(F16, x[a + 2]), s2);
                    s3 = w.fma(FloatVector.broadcast(F16, x[a + 3]), s3);
                    u0 = w.fma(FloatVector.broadcast(F16, x[a2]), u0);
                    u1 = w.fma(FloatVector.broadcast(F16, x[a2 + 1]), u1);
                    u2 = w.fma(FloatVector.broadcast(F16, x[a2 + 2]), u2);
                    u3 = w.fma(FloatVector.broadcast(F16, x[a2 + 3]), u3);
                }
                if (layout.lanes() > 1 || i == blocks - 1) {
                    FloatVector d = FloatVector.fromArray(F16, panel, dAt);
                    int lane = SUM_FLOATS * (layout.lanes() > 1 ? i : 0);
                    int acc = sums + lane;
                    int acc2 = sums2 + lane;
                    int da = scales + side;
                    int da2 = scales2 + side;
                    s0.fma(d.mul(x[da]), FloatVector.fromArray(F16, panel, acc)).intoArray(panel, acc);
                    s1.fma(d.mul(x[da + 1]), FloatVector.fromArray(F16, panel, acc + ROWS)).intoArray(panel, acc + ROWS);
                    s2.fma(d.mul(x[da + 2]), FloatVector.fromArray(F16, panel, acc + 2 * ROWS))
                            .intoArray(panel, acc + 2 * ROWS);
                    s3.fma(d.mul(x[da + 3]), FloatVector.fromArray(F16, panel, acc + 3 * ROWS))
                            .intoArray(panel, acc + 3 * ROWS);
                    u0.fma(d.mul(x[da2]), FloatVector.fromArray(F16, panel, acc2)).intoArray(panel, acc2);
                    u1.fma(d.mul(x[da2 + 1]), FloatVector.fromArray(F16, panel, acc2 + ROWS)).intoArray(panel, acc2 + ROWS);
                    u2.fma(d.mul(x[da2 + 2]), FloatVector.fromArray(F16, panel, acc2 + 2 * ROWS))
                            .intoArray(panel, acc2 + 2 * ROWS);
                    u3.fma(d.mul(x[da2 + 3]), FloatVector.fromArray(F16, panel, acc2 + 3 * ROWS))
                            .intoArray(panel, acc2 + 3 * ROWS);
                    s0 = zero;
                    s1 = zero;
                    s2 = zero;
                    s3 = zero;
                    u0 = zero;
                    u1 = zero;
                    u2 = zero;
                    u3 = zero;
                }
            }
        }
    }

    /**
     * Q4_K's mins term, as ggml's acc_m: lane m += (-da * dmin) * (min[2m] * sum[2m] + min[2m+1]
     * * sum[2m+1]) per super-block, by FMA (the products and their sum are exact integers).
     */
    private static void mins(PanelLayout layout, float[] panel, int cols, float[] x, int xq, int sums) {
        int groups = groups(layout, cols);
        int scales = xq + TOKENS * cols;
        FloatVector zero = FloatVector.zero(F8);
        for (int i = 0; i < MIN_LANES * SUM_FLOATS; i += 8) {
            zero.intoArray(panel, sums + i);
        }
        for (int g = 0; g < groups; g++) {
            int side = g * layout.groupFloats() + layout.blocks() * BLOCK_FLOATS;
            int at = scales + TOKENS * layout.actSide() * g;
            for (int t = 0; t < TOKENS; t++) {
                float negDa = -x[at + t];
                for (int h = 0; h < 2; h++) {
                    FloatVector dmin = FloatVector.fromArray(F8, panel, side + 9 * ROWS + 8 * h).mul(negDa);
                    for (int m = 0; m < MIN_LANES; m++) {
                        FloatVector p = FloatVector.fromArray(F8, panel, side + ROWS * (1 + 2 * m) + 8 * h)
                                .mul(x[at + TOKENS * (1 + 2 * m) + t])
                                .add(FloatVector.fromArray(F8, panel, side + ROWS * (2 + 2 * m) + 8 * h)
                                        .mul(x[at + TOKENS * (2 + 2 * m) + t]));
                        int acc = sums + SUM_FLOATS * m + ROWS * t + 8 * h;
                        p.fma(dmin, FloatVector.fromArray(F8, panel, acc)).intoArray(panel, acc);
                    }
                }
            }
        }
    }

    /** {@link #mins} with the sixteen rows in one 512-bit vector: the same operations lane by lane. */
    private static void minsWide(PanelLayout layout, float[] panel, int cols, float[] x, int xq, int sums) {
        int groups = groups(layout, cols);
        int scales = xq + TOKENS * cols;
        FloatVector zero = FloatVector.zero(F16);
        for (int i = 0; i < MIN_LANES * SUM_FLOATS; i += ROWS) {
            zero.intoArray(panel, sums + i);
        }
        for (int g = 0; g < groups; g++) {
            int side = g * layout.groupFloats() + layout.blocks() * BLOCK_FLOATS;
            int at = scales + TOKENS * layout.actSide() * g;
            for (int t = 0; t < TOKENS; t++) {
                FloatVector dmin = FloatVector.fromArray(F16, panel, side + 9 * ROWS).mul(-x[at + t]);
                for (int m = 0; m < MIN_LANES; m++) {
                    FloatVector p = FloatVector.fromArray(F16, panel, side + ROWS * (1 + 2 * m))
                            .mul(x[at + TOKENS * (1 + 2 * m) + t])
                            .add(FloatVector.fromArray(F16, panel, side + ROWS * (2 + 2 * m))
                                    .mul(x[at + TOKENS * (2 + 2 * m) + t]));
                    int acc = sums + SUM_FLOATS * m + ROWS * t;
                    p.fma(dmin, FloatVector.fromArray(F16, panel, acc)).intoArray(panel, acc);
                }
            }
        }
    }

    /** One token's sixteen sums (at {@code sum}, lane sums {@link #SUM_FLOATS} apart) into y. */
    private static void store(PanelLayout layout, float[] panel, int sum, int rows, float[] y, int at) {
        for (int h = 0; h < 2; h++) {
            int s = sum + 8 * h;
            FloatVector v = FloatVector.fromArray(F8, panel, s);
            if (layout.mins()) {
                // hsum_float_8 of ggml's eight lanes, plus (m0 + m2) + (m1 + m3).
                v = v.add(lane(panel, s, 4)).add(lane(panel, s, 2).add(lane(panel, s, 6)))
                        .add(lane(panel, s, 1).add(lane(panel, s, 5)).add(lane(panel, s, 3).add(lane(panel, s, 7))));
                int m = s + 8 * SUM_FLOATS;
                v = v.add(lane(panel, m, 0).add(lane(panel, m, 2)).add(lane(panel, m, 1).add(lane(panel, m, 3))));
            }
            if (rows == ROWS) {
                v.intoArray(y, at + 8 * h);
            } else {
                for (int r = 8 * h; r < Math.min(rows, 8 * h + 8); r++) {
                    y[at + r] = v.lane(r - 8 * h);
                }
            }
        }
    }

    private static FloatVector lane(float[] panel, int sum, int lane) {
        return FloatVector.fromArray(F8, panel, sum + SUM_FLOATS * lane);
    }
}
