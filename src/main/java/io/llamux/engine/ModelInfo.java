package io.llamux.engine;

/**
 * What a loaded model is, for {@code status} lines and logs.
 *
 * @param name          {@code general.name}, or the file name when the file has none
 * @param architecture  {@code general.architecture} (llama, qwen2)
 * @param weightType    the type of most weight bytes (e.g. Q4_K), as ggml names it
 * @param parameters    number of weights in all tensors
 * @param vocabSize     vocabulary entries
 * @param trainedContext the context length the model was trained with
 * @param contextSize   the context this engine holds (prompt + generation)
 * @param dim           embedding width
 * @param layers        transformer blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads
 * @param ffnDim        feed-forward hidden width
 * @param threads       threads used for the forward pass
 */
public record ModelInfo(String name, String architecture, String weightType, long parameters, int vocabSize,
                        int trainedContext, int contextSize, int dim, int layers, int heads, int kvHeads,
                        int ffnDim, int threads) {

    /** One line, e.g. {@code stories260K (llama, F32, 0.3M params, ctx 256/512, 2 threads)}. */
    public String summary() {
        String params = parameters >= 1_000_000_000 ? String.format("%.1fB", parameters / 1e9)
                : String.format("%.1fM", parameters / 1e6);
        return String.format("%s (%s, %s, %s params, %d layers, dim %d, vocab %d, ctx %d of %d, %d threads)",
                name, architecture, weightType, params, layers, dim, vocabSize, contextSize, trainedContext, threads);
    }

    /**
     * A warning when the context is larger than the one the model was trained with (as
     * llama.cpp warns for {@code -c} above {@code n_ctx_train}), or null: past its trained
     * context a model's output degrades, and nothing in the math stops it.
     */
    public String contextWarning() {
        if (trainedContext <= 0 || contextSize <= trainedContext) {
            return null;
        }
        return "warning: context " + contextSize + " is larger than the " + trainedContext
                + " tokens " + name + " was trained with; text past " + trainedContext + " tokens will degrade";
    }
}
