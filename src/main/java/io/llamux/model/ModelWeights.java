package io.llamux.model;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * Every tensor of a llama-family model, checked against the configuration when loaded so
 * that a wrong file fails here, with the tensor's name and both shapes, rather than as garbage
 * logits later. Matrices stay in the mapped file; 1-D tensors (norms, biases) are copied to
 * float arrays.
 */
public final class ModelWeights {
    /**
     * One transformer block. Fields an architecture does not have are null: biases for llama;
     * for gpt2 wq/wk/wv are replaced by the fused {@code wqkv} (output rows: Q, then K, then V)
     * and there is no gate.
     */
    public record Layer(float[] attnNorm, float[] attnNormBias, Linear wqkv, float[] bqkv,
                        Linear wq, Linear wk, Linear wv, Linear wo,
                        float[] bq, float[] bk, float[] bv, float[] bo,
                        float[] ffnNorm, float[] ffnNormBias, Linear gate, Linear up, float[] bUp,
                        Linear down, float[] bDown) {
    }

    public final ModelConfig config;
    public final Linear tokenEmbedding;
    public final Layer[] layers;
    public final float[] outputNorm;
    /** The output norm's bias (gpt2), or null. */
    public final float[] outputNormBias;
    /** Learned position embeddings, one row per position (gpt2), or null. */
    public final Linear positionEmbedding;
    /** The output head: {@code output.weight}, or the token embedding when the file has none (tied). */
    public final Linear output;
    /** Rotary angle scaling: frequency factors ({@code rope_freqs.weight}) and linear scaling. */
    public final RopeScaling rope;

    private ModelWeights(ModelConfig config, Linear tokenEmbedding, Linear positionEmbedding, Layer[] layers,
                         float[] outputNorm, float[] outputNormBias, Linear output, RopeScaling rope) {
        this.config = config;
        this.rope = rope;
        this.tokenEmbedding = tokenEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.outputNormBias = outputNormBias;
        this.output = output;
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
        Binder b = new Binder(file, linears, new java.util.HashSet<>(java.util.List.of(RopeScaling.FACTORS_TENSOR)));
        Linear tokenEmbedding = b.matrix("token_embd.weight", c.dim(), c.vocabSize());
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = c.isGpt2() ? gpt2Layer(b, c, "blk." + i + ".") : llamaLayer(b, c, "blk." + i + ".");
        }
        float[] outputNorm = b.vector("output_norm.weight", c.dim());
        float[] outputNormBias = c.isGpt2() ? b.vector("output_norm.bias", c.dim()) : null;
        Linear position = c.isGpt2() ? b.matrix("position_embd.weight", c.dim(), c.contextLength()) : null;
        Linear output = file.tensor("output.weight").isPresent()
                ? b.matrix("output.weight", c.dim(), c.vocabSize())
                : tokenEmbedding;
        b.requireAllUsed(c);
        return new ModelWeights(c, tokenEmbedding, position, layers, outputNorm, outputNormBias, output, rope);
    }

    /** llama and qwen2 (qwen2 adds optional q/k/v biases). */
    private static Layer llamaLayer(Binder b, ModelConfig c, String p) {
        boolean biases = c.architecture().equals("qwen2");
        return new Layer(
                b.vector(p + "attn_norm.weight", c.dim()), null, null, null,
                b.matrix(p + "attn_q.weight", c.dim(), c.qDim()),
                b.matrix(p + "attn_k.weight", c.dim(), c.kvDim()),
                b.matrix(p + "attn_v.weight", c.dim(), c.kvDim()),
                b.matrix(p + "attn_output.weight", c.qDim(), c.dim()),
                biases ? b.optionalVector(p + "attn_q.bias", c.qDim()) : null,
                biases ? b.optionalVector(p + "attn_k.bias", c.kvDim()) : null,
                biases ? b.optionalVector(p + "attn_v.bias", c.kvDim()) : null,
                null,
                b.vector(p + "ffn_norm.weight", c.dim()), null,
                b.matrix(p + "ffn_gate.weight", c.dim(), c.ffnDim()),
                b.matrix(p + "ffn_up.weight", c.dim(), c.ffnDim()), null,
                b.matrix(p + "ffn_down.weight", c.ffnDim(), c.dim()), null);
    }

    /** gpt2: LayerNorms with biases, fused QKV, biases on every linear layer, no gate. */
    private static Layer gpt2Layer(Binder b, ModelConfig c, String p) {
        int qkv = c.qDim() + 2 * c.kvDim();
        return new Layer(
                b.vector(p + "attn_norm.weight", c.dim()), b.vector(p + "attn_norm.bias", c.dim()),
                b.matrix(p + "attn_qkv.weight", c.dim(), qkv), b.vector(p + "attn_qkv.bias", qkv),
                null, null, null,
                b.matrix(p + "attn_output.weight", c.qDim(), c.dim()),
                null, null, null, b.vector(p + "attn_output.bias", c.dim()),
                b.vector(p + "ffn_norm.weight", c.dim()), b.vector(p + "ffn_norm.bias", c.dim()),
                null,
                b.matrix(p + "ffn_up.weight", c.dim(), c.ffnDim()), b.vector(p + "ffn_up.bias", c.ffnDim()),
                b.matrix(p + "ffn_down.weight", c.ffnDim(), c.dim()), b.vector(p + "ffn_down.bias", c.dim()));
    }

    /** Looks tensors up and checks their shapes. */
    private record Binder(GgufFile file, LinearFactory linears, java.util.Set<String> used) {
        TensorInfo require(String name) {
            used.add(name);
            return file.tensor(name).orElseThrow(() -> new IllegalArgumentException("missing tensor " + name));
        }

        /** A tensor the architecture has no use for means a model this code would run wrong: refuse it. */
        void requireAllUsed(ModelConfig c) {
            for (TensorInfo t : file.tensors()) {
                if (!used.contains(t.name())) {
                    throw new IllegalArgumentException("tensor " + t.name() + " is not used by architecture "
                            + c.architecture() + " as Llamux implements it; the model would run wrong without it");
                }
            }
        }

        /** A matrix of {@code rows} rows of length {@code cols}: ggml shape {@code [cols, rows]}. */
        Linear matrix(String name, int cols, int rows) {
            TensorInfo t = require(name);
            checkShape(t, new long[]{cols, rows});
            if (!t.type().supported) {
                throw new IllegalArgumentException("tensor " + name + " has type " + t.type()
                        + ", which Llamux cannot compute with");
            }
            return linears.create(t, file.data(t));
        }

        float[] vector(String name, int n) {
            TensorInfo t = require(name);
            checkShape(t, new long[]{n});
            if (t.type() != GgmlType.F32) {
                throw new IllegalArgumentException("tensor " + name + " must be F32, found " + t.type());
            }
            MemorySegment seg = file.data(t);
            float[] v = new float[n];
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v, 0, n);
            return v;
        }

        float[] optionalVector(String name, int n) {
            used.add(name);
            Optional<TensorInfo> t = file.tensor(name);
            return t.isPresent() ? vector(name, n) : null;
        }

        static void checkShape(TensorInfo t, long[] expected) {
            long[] found = t.ne();
            // ggml drops trailing dimensions of 1, and some writers keep them: compare padded.
            long[] a = Arrays.copyOf(expected, 4);
            long[] f = Arrays.copyOf(found, 4);
            for (int i = expected.length; i < 4; i++) {
                a[i] = 1;
            }
            for (int i = found.length; i < 4; i++) {
                f[i] = 1;
            }
            if (!Arrays.equals(a, f)) {
                throw new IllegalArgumentException("tensor " + t.name() + ": expected shape "
                        + Arrays.toString(expected) + " (ggml order, ne[0] = row length), found "
                        + Arrays.toString(found));
            }
        }
    }
}
