package io.llamux.engine;

/**
 * How an {@link Engine} runs a model.
 *
 * @param threads     threads for matmuls and attention; 0 or below: one per available processor
 * @param contextSize tokens of context (prompt + generation); 0 or below: the model's own
 *                    context length, capped at {@link #DEFAULT_CONTEXT_CAP}
 * @param batchSize   prompt tokens processed per forward pass (llama.cpp's ubatch); 0 or below:
 *                    {@link #DEFAULT_BATCH}
 */
public record EngineOptions(int threads, int contextSize, int batchSize) {
    /** The default context cap: the KV cache of a 7B model at 4096 tokens is already 2 GB in F32. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;
    public static final int DEFAULT_BATCH = 512;

    /** All defaults. */
    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, 0);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(t, contextSize, batchSize);
    }

    public EngineOptions withContextSize(int c) {
        return new EngineOptions(threads, c, batchSize);
    }

    /** The thread count to use on this machine. */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** The context size to use for a model trained with {@code modelContext} tokens. */
    public int effectiveContext(int modelContext) {
        return contextSize > 0 ? contextSize : Math.min(modelContext, DEFAULT_CONTEXT_CAP);
    }

    public int effectiveBatch() {
        return batchSize > 0 ? batchSize : DEFAULT_BATCH;
    }
}
