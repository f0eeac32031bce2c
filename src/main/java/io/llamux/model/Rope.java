package io.llamux.model;

/**
 * Rotary position embedding as ggml computes it, for a batch of up to {@code maxBatch} tokens:
 * the cos/sin of every pair's angle per position ({@link #tables}), then each head's pairs
 * rotated ({@link #rotate}).
 */
final class Rope {
    private final int half;
    private final int headDim;
    private final boolean neox;
    private final float thetaScale;
    /** {@link RopeScaling}: the linear scale and each pair's frequency factor (1 without). */
    private final float freqScale;
    private final float[] factors;
    private final float[] cos;
    private final float[] sin;

    Rope(ModelConfig c, RopeScaling scaling, int maxBatch) {
        half = c.ropeDims() / 2;
        headDim = c.headDim();
        neox = c.rope() == ModelConfig.RopeStyle.NEOX;
        thetaScale = (float) Math.pow(c.ropeBase(), -2.0f / c.ropeDims());
        freqScale = scaling.freqScale();
        factors = new float[half];
        for (int i = 0; i < half; i++) {
            factors[i] = scaling.factor(i);
        }
        cos = new float[maxBatch * half];
        sin = new float[maxBatch * half];
    }

    /**
     * cos/sin of every rotary angle for positions {@code pos .. pos+n-1}, as ggml: the angle
     * starts at the position and is multiplied by {@code base^(-2/ropeDims)} per pair, in float;
     * ggml_rope_cache_init then divides it by the pair's frequency factor and multiplies it by
     * the linear scale (see {@link RopeScaling}).
     */
    void tables(int n, int pos) {
        for (int b = 0; b < n; b++) {
            float theta = pos + b;
            for (int i = 0; i < half; i++) {
                float angle = freqScale * (theta / factors[i]);
                cos[b * half + i] = (float) Math.cos(angle);
                sin[b * half + i] = (float) Math.sin(angle);
                theta *= thetaScale;
            }
        }
    }

    /** For tests: the rotary cos (first half) and sin (second half) of every pair at {@code pos}. */
    float[] tableAt(int pos) {
        tables(1, pos);
        float[] r = new float[2 * half];
        System.arraycopy(cos, 0, r, 0, half);
        System.arraycopy(sin, 0, r, half, half);
        return r;
    }

    /**
     * Rotates the first ropeDims elements of each of {@code heads} heads of batch token
     * {@code b} (whose vector starts at {@code off}) by the angles of {@link #tables}: pairs
     * (2i, 2i+1) for llama, (i, i + ropeDims/2) for NEOX.
     */
    void rotate(float[] vec, int off, int heads, int b) {
        for (int h = 0; h < heads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[b * half + i];
                float s = sin[b * half + i];
                int i0 = neox ? base + i : base + 2 * i;
                int i1 = neox ? base + i + half : base + 2 * i + 1;
                float x0 = vec[i0];
                float x1 = vec[i1];
                vec[i0] = x0 * c - x1 * s;
                vec[i1] = x0 * s + x1 * c;
            }
        }
    }
}
