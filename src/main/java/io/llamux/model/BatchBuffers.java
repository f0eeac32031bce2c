package io.llamux.model;

/**
 * What a {@link Transformer} shares with its {@link Block}: the activations of a batch of up to
 * {@code maxBatch} tokens, token-major (token b's vector starts at {@code b * width}), and the
 * worker pool the matmuls run on.
 *
 * @param x   the residual stream, {@code dim} per token
 * @param xb  a normalised or projected vector, {@code max(dim, qDim)} per token
 * @param q   queries, {@code qDim} per token
 * @param k   keys, {@code kvDim} per token
 * @param v   values, {@code kvDim} per token
 * @param att attention's output, {@code qDim} per token
 */
record BatchBuffers(int maxBatch, int contextSize, WorkerPool pool,
                    float[] x, float[] xb, float[] q, float[] k, float[] v, float[] att) {

    static BatchBuffers allocate(ModelConfig c, int maxBatch, int contextSize, WorkerPool pool) {
        return new BatchBuffers(maxBatch, contextSize, pool,
                new float[maxBatch * c.dim()],
                new float[maxBatch * Math.max(c.dim(), c.qDim())],
                new float[maxBatch * c.qDim()],
                new float[maxBatch * c.kvDim()],
                new float[maxBatch * c.kvDim()],
                new float[maxBatch * c.qDim()]);
    }
}
