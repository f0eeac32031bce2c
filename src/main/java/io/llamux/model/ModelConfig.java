package io.llamux.model;

import io.llamux.gguf.GgufMetadata;

/**
 * The hyper-parameters of a llama-family transformer, read from GGUF metadata under the
 * {@code general.architecture} prefix ({@code llama.block_count}, {@code qwen2.block_count}).
 *
 * @param architecture  the {@code general.architecture} value
 * @param contextLength the context the model was trained with
 * @param dim           embedding width ({@code embedding_length})
 * @param layers        transformer blocks ({@code block_count})
 * @param ffnDim        hidden width of the feed-forward network
 * @param heads         query heads
 * @param kvHeads       key/value heads (grouped-query attention when fewer than heads)
 * @param headDim       elements per head ({@code attention.key_length}, default dim / heads)
 * @param rmsEps        normalisation epsilon (RMSNorm for llama/qwen2, LayerNorm for gpt2)
 * @param ropeBase      rotary frequency base ({@code rope.freq_base}, default 10000)
 * @param ropeDims      rotated elements per head ({@code rope.dimension_count}, default headDim)
 * @param rope          how rotary pairs are formed (NONE: learned positions, gpt2)
 * @param vocabSize     vocabulary entries (rows of the embedding)
 */
public record ModelConfig(String architecture, int contextLength, int dim, int layers, int ffnDim,
                          int heads, int kvHeads, int headDim, float rmsEps, float ropeBase,
                          int ropeDims, RopeStyle rope, int vocabSize) {

    /**
     * Pairs rotated together: NORM = adjacent (2i, 2i+1), NEOX = (i, i + ropeDims/2); NONE: no
     * rotary embedding (gpt2 adds a learned position embedding instead).
     */
    public enum RopeStyle { NORM, NEOX, NONE }

    /** The architecture's family: its block and its tensors. */
    Family family() {
        return Family.of(architecture);
    }

    public ModelConfig {
        require(dim > 0, "embedding_length must be positive: " + dim);
        require(layers > 0, "block_count must be positive: " + layers);
        require(ffnDim > 0, "feed_forward_length must be positive: " + ffnDim);
        require(heads > 0, "attention.head_count must be positive: " + heads);
        require(kvHeads > 0 && heads % kvHeads == 0,
                "attention.head_count_kv must divide head_count " + heads + ": " + kvHeads);
        require(headDim > 0 && headDim % 2 == 0, "head dimension must be positive and even: " + headDim);
        require(ropeDims > 0 && ropeDims % 2 == 0 && ropeDims <= headDim,
                "rope.dimension_count must be even and at most the head dimension " + headDim + ": " + ropeDims);
        require(rmsEps > 0 && Float.isFinite(rmsEps), "RMSNorm epsilon must be positive: " + rmsEps);
        require(ropeBase > 0 && Float.isFinite(ropeBase), "rope.freq_base must be positive: " + ropeBase);
        require(contextLength > 0, "context_length must be positive: " + contextLength);
        require(vocabSize > 0, "vocabulary size must be positive: " + vocabSize);
    }

    /** Elements of one token's query vector (all heads). */
    public int qDim() {
        return heads * headDim;
    }

    /** Elements of one token's key (or value) vector (all KV heads). */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /**
     * Reads the configuration. {@code vocabSize} comes from the caller (the embedding's row
     * count), since not every file states it in metadata.
     *
     * @throws IllegalArgumentException for an architecture this engine cannot run or a missing
     *                                  or impossible hyper-parameter, naming the key
     */
    public static ModelConfig fromMetadata(GgufMetadata md, int vocabSize) {
        String arch = md.architecture();
        if (arch == null) {
            throw new IllegalArgumentException("the file has no general.architecture");
        }
        Family family = Family.of(arch);
        int dim = required(md, "embedding_length");
        int heads = required(md, "attention.head_count");
        int headDim = md.archInt("attention.key_length", heads > 0 && dim % heads == 0 ? dim / heads : -1);
        return new ModelConfig(arch,
                required(md, "context_length"),
                dim,
                required(md, "block_count"),
                required(md, "feed_forward_length"),
                heads,
                md.archInt("attention.head_count_kv", heads),
                headDim,
                family.normEpsilon(md),
                md.archFloat("rope.freq_base", 10000f),
                md.archInt("rope.dimension_count", headDim),
                family.rope,
                vocabSize);
    }

    private static int required(GgufMetadata md, String suffix) {
        if (!md.archHas(suffix)) {
            throw new IllegalArgumentException("missing metadata key " + md.archKey(suffix));
        }
        return md.archInt(suffix, -1);
    }

    static float requiredFloat(GgufMetadata md, String suffix) {
        if (!md.archHas(suffix)) {
            throw new IllegalArgumentException("missing metadata key " + md.archKey(suffix));
        }
        return md.archFloat(suffix, Float.NaN);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
