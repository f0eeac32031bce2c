package io.llamux.model;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.TensorInfo;
import java.util.Arrays;

/**
 * Every tensor of a model, checked against the configuration when loaded so that a wrong file
 * fails here, with the tensor's name and both shapes, rather than as garbage logits later.
 * Matrices stay in the mapped file; 1-D tensors (norms, biases) are copied to float arrays.
 * The tensors every family has are here; the rest belong to the family's {@link Block}.
 */
public final class ModelWeights {
    public final ModelConfig config;
    public final Linear tokenEmbedding;
    /** The output head: {@code output.weight}, or the token embedding when the file has none (tied). */
    public final Linear output;
    /** Rotary angle scaling: frequency factors ({@code rope_freqs.weight}) and linear scaling. */
    public final RopeScaling rope;
    /** The family's tensors: every block's, the final norm, and any only it has (gpt2's learned positions). */
    final Block.Weights blocks;

    private ModelWeights(ModelConfig config, Linear tokenEmbedding, Block.Weights blocks, Linear output,
                         RopeScaling rope) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.blocks = blocks;
        this.output = output;
        this.rope = rope;
    }

    /**
     * Reads the configuration and binds every tensor.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing, has the wrong
     *                                  shape or a type Llamux cannot compute with, or is one the
     *                                  architecture does not use; naming the metadata key when
     *                                  it asks for arithmetic Llamux does not implement
     */
    public static ModelWeights load(GgufFile file, LinearFactory linears) {
        TensorInfo embd = file.tensor("token_embd.weight").orElseThrow(
                () -> new IllegalArgumentException(file + ": missing tensor token_embd.weight"));
        if (embd.dims() != 2) {
            throw new IllegalArgumentException("token_embd.weight must be 2-D, found " + Arrays.toString(embd.ne()));
        }
        ModelConfig c = ModelConfig.fromMetadata(file.metadata(), Math.toIntExact(embd.ne(1)));
        UnimplementedKeys.check(file.metadata());
        RopeScaling rope = RopeScaling.of(file, c);
        TensorBinder b = new TensorBinder(file, linears);
        b.markUsed(RopeScaling.FACTORS_TENSOR);
        Linear tokenEmbedding = b.matrix("token_embd.weight", c.dim(), c.vocabSize());
        Block.Weights blocks = c.family().bind(b, c);
        Linear output = b.has("output.weight")
                ? b.matrix("output.weight", c.dim(), c.vocabSize())
                : tokenEmbedding;
        b.requireAllUsed(c);
        return new ModelWeights(c, tokenEmbedding, blocks, output, rope);
    }
}
