package io.llamux.engine;

import io.llamux.model.KvCache;

/**
 * How an {@link Engine} runs a model.
 *
 * @param threads     threads for matmuls and attention; 0 or below: one per available processor
 * @param contextSize tokens of context (prompt + generation); 0 or below: the model's own
 *                    context length, capped at {@link #DEFAULT_CONTEXT_CAP}
 * @param batchSize   prompt tokens processed per forward pass (llama.cpp's ubatch); 0 or below:
 *                    {@link #DEFAULT_BATCH}
 * @param cacheK      the KV cache's key type (llama.cpp's {@code -ctk}); null: F16, llama.cpp's default
 * @param cacheV      the value type ({@code -ctv}); null: F16
 */
public record EngineOptions(int threads, int contextSize, int batchSize, KvCache.Type cacheK, KvCache.Type cacheV) {
    /** Options with llama.cpp's default F16 cache. */
    public EngineOptions(int threads, int contextSize, int batchSize) {
        this(threads, contextSize, batchSize, null, null);
    }

    /** The default context cap: the KV cache of a 7B model at 4096 tokens is already 2 GB in F32. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;
    public static final int DEFAULT_BATCH = 512;

    /** All defaults. */
    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, 0);
    }

    public EngineOptions withThreads(int t) {
        return new EngineOptions(t, contextSize, batchSize, cacheK, cacheV);
    }

    public EngineOptions withContextSize(int c) {
        return new EngineOptions(threads, c, batchSize, cacheK, cacheV);
    }

    public EngineOptions withCacheTypes(KvCache.Type k, KvCache.Type v) {
        return new EngineOptions(threads, contextSize, batchSize, k, v);
    }

    public KvCache.Type effectiveCacheK() {
        return cacheK != null ? cacheK : KvCache.Type.F16;
    }

    public KvCache.Type effectiveCacheV() {
        return cacheV != null ? cacheV : KvCache.Type.F16;
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
