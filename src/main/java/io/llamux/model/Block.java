package io.llamux.model;

import java.util.List;

/**
 * What an architecture family's transformer block computes, around the attention every family
 * shares: its norms, how it projects queries, keys and values (separate or fused, with or
 * without biases), how it places positions (rotary or learned) and its feed-forward network
 * (SwiGLU or GELU). One instance per {@link Transformer}, made from the family's
 * {@link Weights}, with scratch buffers of its own for a batch.
 *
 * <p>The transformer calls, per batch: {@link #startBatch}, then per layer
 * {@link #queriesKeysValues}, attention (which reads {@code q}, {@code k}, {@code v} and
 * writes {@code att}), {@link #finishLayer}; at the end {@link #finalNorm}. Everything goes
 * through the arrays of {@link BatchBuffers}, never a returned vector, so the token loop
 * allocates nothing.
 */
interface Block {
    /** Before the first layer: what the family needs of the positions {@code pos .. pos+n-1}. */
    void startBatch(int n, int pos);

    /** Layer {@code layer}'s attention input: from {@code x}, the batch's queries, keys and values. */
    void queriesKeysValues(int layer, int n);

    /** After attention wrote {@code att}: output projection, feed-forward network and both residuals into {@code x}. */
    void finishLayer(int layer, int n);

    /** The final norm of {@code x}'s tokens {@code first .. first+rows} into {@code xb}'s rows {@code 0 .. rows}. */
    void finalNorm(int first, int rows);

    /** A family's tensors, bound to a file. */
    interface Weights {
        /** Every block's projection matrices (for checks of their types). */
        List<Linear> matrices();

        /** The block computation for one transformer's batches. */
        Block newBlock(ModelWeights weights, BatchBuffers buffers);
    }
}
