package io.llamux.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

/**
 * Runs the repacked kernels of the given weight types on a tiny matrix, on a thread of its
 * own, while the model loads, so that C2 has compiled them by the first prompt. Until then
 * they run interpreted or from C1, boxing every vector: a 7B model's first prompt of five
 * tokens took three seconds that way, as long as loading the file. The numbers computed are
 * thrown away; the weights are zeros (a random f16 scale can be a subnormal, slow to multiply).
 */
public final class KernelWarmUp {
    /** Calls per kernel: above C2's thresholds (Tier4InvocationThreshold 5000, with back edges 15000). */
    private static final int CALLS = 20_000;
    /**
     * Prompt batches: each runs the panel kernel's loops hundreds of times, so a thousand are
     * past C2's thresholds for a whole-method compile (Tier4MinInvocationThreshold 600, with back
     * edges 15000). More only take CPU from the repacking while the model loads (a 7B model on
     * two cores: the warm-up was some 40% of the profile's samples during the load).
     */
    private static final int PANEL_CALLS = 1_000;
    private static final int COLS = 512;
    /**
     * Tokens of a prompt batch: with AVX-512, a pass of eight (two groups of four) and one of
     * four, so that both are compiled here as whole methods. Left to the first prompt, C2
     * compiled the eight-token pass on a loop entry (OSR) from a partial profile, and some
     * processes kept that code: TinyLlama pp128 at 40 tokens/s instead of 62, one thread.
     */
    private static final int BATCH = 3 * PanelKernel.TOKENS;

    private KernelWarmUp() {
    }

    /**
     * Starts the warm-up of {@code types}' repacked kernels (those that have one), the prompt
     * kernels only of {@code promptTypes}, and returns at once.
     */
    public static Thread start(Collection<GgmlType> types, Collection<GgmlType> promptTypes) {
        Set<GgmlType> todo = EnumSet.noneOf(GgmlType.class);
        for (GgmlType t : types) {
            if (WeightFormats.repacked(t) != null) {
                todo.add(t);
            }
        }
        Set<GgmlType> prompts = EnumSet.noneOf(GgmlType.class);
        prompts.addAll(promptTypes);
        Thread thread = Thread.ofPlatform().daemon().name("llamux-warm-up").unstarted(() -> {
            for (GgmlType t : todo) {
                run(WeightFormats.repacked(t), prompts.contains(t));
            }
        });
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
        return thread;
    }

    /**
     * One format's token-by-token kernel, {@link #CALLS} times, and its prompt kernels if
     * {@code prompts} and it has any.
     */
    static float run(RepackedFormat format, boolean prompts) {
        Random rnd = new Random(1);
        float[] x = new float[BATCH * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float sink = 0;
        // A shared arena, as the engine's weights (Engine.load): C2 profiles the class of a
        // segment's session and hoists the check of it above the kernel's loop; warmed up on a
        // confined arena, the first real matrix failed that check (a "profile_predicate" trap),
        // and the kernel was recompiled on a loop entry with its vector operations left to Java
        // (seen on Q6_Kx8.matvec: TinyLlama Q4_K_M decode 10.7 instead of 14.7 tokens/s).
        try (Arena arena = Arena.ofShared()) {
            int rows = Math.max(format.rows(), PanelKernel.ROWS);
            MemorySegment w = arena.allocate((long) rows / format.rows() * format.groupBytes(COLS), 64);
            int[] act = new int[format.activationInts(COLS)];
            float[] y = new float[BATCH * rows];
            for (int i = 0; i < CALLS; i++) {
                format.prepareActivation(x, 0, COLS, act, 0);
                format.matvec(w, 0, act, 0, COLS, y, 0);
            }
            PanelLayout layout = format.panelLayout();
            if (prompts && layout != null && format.panelMinBatch() < Integer.MAX_VALUE) { // else never run
                float[] panel = new float[PanelKernel.panelFloats(layout, COLS)];
                float[] xq = new float[PanelKernel.activationFloats(layout, COLS, BATCH)];
                for (int i = 0; i < PANEL_CALLS; i++) {
                    for (int r = 0; r < PanelKernel.ROWS; r += format.rows()) {
                        format.expandGroup(w, r / format.rows() * format.groupBytes(COLS), COLS, panel, r);
                    }
                    for (int t = 0; t < BATCH; t++) {
                        format.expandActivation(x, t * COLS, COLS, xq, PanelKernel.activationOffset(layout, COLS, t));
                    }
                    PanelKernel.multiply(layout, panel, COLS, PanelKernel.ROWS, xq, BATCH, y, 0, rows);
                }
            }
            sink += y[0];
        }
        return sink;
    }
}
