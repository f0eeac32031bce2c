package io.llamux.model;

/**
 * Keys and values of every layer for every position so far, in float32 (as the golden runs
 * with {@code -ctk f32 -ctv f32}). Layout per layer: position-major, then KV head, then the
 * head's elements, so one position's keys for one head are contiguous for the dot products.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int kvDim;

    public KvCache(int layers, int contextSize, int kvDim) {
        long perLayer = (long) contextSize * kvDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context of " + contextSize + " tokens is too large for the KV cache ("
                    + perLayer + " floats per layer)");
        }
        this.kvDim = kvDim;
        this.keys = new float[layers][(int) perLayer];
        this.values = new float[layers][(int) perLayer];
    }

    /** Copies {@code n} tokens' keys and values (token-major) into positions {@code pos ..}. */
    void store(int layer, int pos, int n, float[] k, float[] v) {
        System.arraycopy(k, 0, keys[layer], pos * kvDim, n * kvDim);
        System.arraycopy(v, 0, values[layer], pos * kvDim, n * kvDim);
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }
}
