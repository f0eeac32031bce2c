package io.llamux.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A weight type rearranged at load time into a layout made for the Vector API, with its own
 * activation layout to match (llama.cpp's CPU backend repacks Q4_0 and others the same way for
 * AVX2). The numbers are those of the original type and its partner quantization (Q8_0 for
 * Q4_0, ...): each block's integer sum is exact, only the float summation order differs from
 * ggml's, which the golden tolerances allow.
 *
 * <p>Rows are interleaved {@link #rows()} at a time, so that the vector lanes hold as many rows:
 * a matrix-vector product then ends with those rows' results in one vector, with no horizontal
 * sum, and each row's sum is added in the same order however the code was compiled. A group of
 * rows of {@code cols} weights takes {@link #groupBytes} bytes; an activation vector of
 * {@code cols} floats becomes {@link #activationInts} ints, each broadcast to the vector lanes
 * as the kernel reads it. Stateless and thread-safe; {@link #matvec} does not allocate.
 */
public interface RepackedFormat {

    /** The ggml type this repacks. */
    GgmlType type();

    /** Rows per group (one {@link #matvec}); a matrix must have a multiple of this many rows. */
    int rows();

    /** Bytes of one group of {@link #rows()} repacked rows of {@code cols} weights. */
    long groupBytes(int cols);

    /** Ints of one prepared activation vector of {@code cols} elements. */
    int activationInts(int cols);

    /**
     * Rearranges {@link #rows()} rows in the file's layout, the first at {@code src + srcOff} and
     * each {@code srcRowBytes} after the one before, into one group at {@code dst + dstOff}.
     */
    void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols);

    /** Quantizes {@code x[off..off+cols)} as llama.cpp would, laid out in {@code dst[dstOff..]}. */
    void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff);

    /** The group's {@link #rows()} products with one prepared vector, into {@code y[yOff..]}. */
    void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff);

    /**
     * How prompts go through {@link PanelKernel} (the groups expanded to floats by
     * {@link #expandGroup}, the activations by {@link #expandActivation}), or null where they
     * take {@link #matvec} token by token.
     */
    default PanelLayout panelLayout() {
        return null;
    }

    /**
     * The smallest batch that goes through {@link PanelKernel} (where there is a
     * {@link #panelLayout}): below it, expanding each group to floats costs more than unpacking
     * it again for every token. With 256-bit vectors (AVX2) that is 4 tokens for every type;
     * with 512-bit ones the token-by-token kernels take sixteen rows an instruction, twice as
     * many, and the crossing is each type's own ({@link #widePanelMinBatch}). Measured side by
     * side (TinyLlama-shaped Q4_0, two threads, Zen 4, tokens/s, panels against token by
     * token): 256-bit pp32 62.0 / 49.4, pp128 62.2 / 45.4; 512-bit pp32 55.8 / 65.8.
     */
    default int panelMinBatch() {
        return PanelKernel.WIDE ? widePanelMinBatch() : 4;
    }

    /** {@link #panelMinBatch} with 512-bit kernels: by default, never. */
    default int widePanelMinBatch() {
        return Integer.MAX_VALUE;
    }

    /**
     * Writes the group at {@code wOff} into a {@link PanelKernel} panel, its rows at panel rows
     * {@code lane..}: the quants as floats, the scales beside them ({@link #panelLayout}).
     */
    default void expandGroup(MemorySegment w, long wOff, int cols, float[] panel, int lane) {
        throw new UnsupportedOperationException(type() + " does not expand");
    }

    /**
     * Quantizes {@code x[off..off+cols)} as {@link #prepareActivation} does, written from
     * {@code out[outOff]} as {@link PanelKernel} takes it: the quants as floats, then the block
     * scales, each {@link PanelKernel#TOKENS} floats from the one before.
     */
    default void expandActivation(float[] x, int off, int cols, float[] out, int outOff) {
        throw new UnsupportedOperationException(type() + " does not expand");
    }

    /** Writes row {@code row} of the group at {@code wOff} back as floats (embedding lookups). */
    void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols);
}
