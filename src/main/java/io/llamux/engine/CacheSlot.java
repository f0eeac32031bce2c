package io.llamux.engine;

import io.llamux.model.KvCache;

/**
 * A KV cache and the tokens whose keys and values it holds, at positions 0 .. length-1: the
 * computed context of one conversation. A generation on a slot processes only the prompt's
 * tokens after the prefix the slot already holds ({@link Engine#generate(CacheSlot, int[],
 * io.llamux.sampling.SamplerSettings, int, java.util.function.IntConsumer,
 * java.util.function.Consumer, java.util.function.BooleanSupplier)}); several slots let
 * several conversations go on without recomputing each other's. Used under the engine's lock.
 */
public final class CacheSlot {
    final KvCache cache;
    final int[] tokens;
    int length;

    CacheSlot(KvCache cache, int contextSize) {
        this.cache = cache;
        this.tokens = new int[contextSize];
    }

    /**
     * Forgets what the slot holds, so that its next generation shares no prefix with the last:
     * for a slot handed to another user, whose token counts must not reveal the last one's
     * prompt.
     */
    public void clear() {
        length = 0;
    }

    /** How many tokens' keys and values the slot holds. */
    public int cachedTokens() {
        return length;
    }

    /** Off-heap bytes of its KV cache. */
    public long byteSize() {
        return cache.byteSize();
    }
}
