package io.llamux.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The llama block (llama, qwen2): RMSNorm; separate Q, K and V projections (qwen2: plus biases
 * when the file has them); rotary positions on queries and keys; after attention the output
 * projection and residual; RMSNorm, SwiGLU feed-forward (gate, up, down) and residual. The
 * final norm is an RMSNorm.
 */
final class LlamaBlock implements Block {
    /** One block's tensors; the biases are null unless the family has them and the file holds them. */
    record Layer(float[] attnNorm, Linear wq, Linear wk, Linear wv, float[] bq, float[] bk, float[] bv,
                 Linear wo, float[] ffnNorm, Linear gate, Linear up, Linear down) {
    }

    record Weights(Layer[] layers, float[] outputNorm) implements Block.Weights {
        @Override
        public List<Linear> matrices() {
            List<Linear> all = new ArrayList<>();
            for (Layer l : layers) {
                all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
            }
            return all;
        }

        @Override
        public Block newBlock(ModelWeights weights, BatchBuffers buffers) {
            return new LlamaBlock(weights.config, this, weights.rope, buffers);
        }
    }

    /** @param biases whether the family has Q/K/V biases (qwen2), each optional in the file */
    static Weights bind(TensorBinder b, ModelConfig c, boolean biases) {
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    b.vector(p + "attn_norm.weight", c.dim()),
                    b.matrix(p + "attn_q.weight", c.dim(), c.qDim()),
                    b.matrix(p + "attn_k.weight", c.dim(), c.kvDim()),
                    b.matrix(p + "attn_v.weight", c.dim(), c.kvDim()),
                    biases ? b.optionalVector(p + "attn_q.bias", c.qDim()) : null,
                    biases ? b.optionalVector(p + "attn_k.bias", c.kvDim()) : null,
                    biases ? b.optionalVector(p + "attn_v.bias", c.kvDim()) : null,
                    b.matrix(p + "attn_output.weight", c.qDim(), c.dim()),
                    b.vector(p + "ffn_norm.weight", c.dim()),
                    b.matrix(p + "ffn_gate.weight", c.dim(), c.ffnDim()),
                    b.matrix(p + "ffn_up.weight", c.dim(), c.ffnDim()),
                    b.matrix(p + "ffn_down.weight", c.ffnDim(), c.dim()));
        }
        return new Weights(layers, b.vector("output_norm.weight", c.dim()));
    }

    private final ModelConfig c;
    private final Layer[] layers;
    private final float[] outputNorm;
    private final Rope rope;
    private final WorkerPool pool;
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] att;
    /** The feed-forward's gate and up projections of the batch. */
    private final float[] hb;
    private final float[] hb2;
    /** Per layer: Q, K and V of one input as one job for the pool; gate and up likewise. */
    private final Linear.Fused[] qkv;
    private final Linear.Fused[] gateUp;

    private LlamaBlock(ModelConfig c, Weights w, RopeScaling scaling, BatchBuffers s) {
        this.c = c;
        this.layers = w.layers();
        this.outputNorm = w.outputNorm();
        this.rope = new Rope(c, scaling, s.maxBatch());
        this.pool = s.pool();
        this.x = s.x();
        this.xb = s.xb();
        this.q = s.q();
        this.k = s.k();
        this.v = s.v();
        this.att = s.att();
        this.hb = new float[s.maxBatch() * c.ffnDim()];
        this.hb2 = new float[s.maxBatch() * c.ffnDim()];
        this.qkv = new Linear.Fused[layers.length];
        this.gateUp = new Linear.Fused[layers.length];
        for (int l = 0; l < layers.length; l++) {
            qkv[l] = new Linear.Fused(layers[l].wq(), layers[l].wk(), layers[l].wv());
            gateUp[l] = new Linear.Fused(layers[l].gate(), layers[l].up());
        }
    }

    @Override
    public void startBatch(int n, int pos) {
        rope.tables(n, pos);
    }

    @Override
    public void queriesKeysValues(int l, int n) {
        Layer layer = layers[l];
        int dim = c.dim();
        for (int b = 0; b < n; b++) {
            VectorMath.rmsNorm(xb, b * dim, x, b * dim, layer.attnNorm(), dim, c.rmsEps());
        }
        qkv[l].matmul(xb, n, q, k, v, pool);
        VectorMath.addBias(q, layer.bq(), n);
        VectorMath.addBias(k, layer.bk(), n);
        VectorMath.addBias(v, layer.bv(), n);
        for (int b = 0; b < n; b++) {
            rope.rotate(q, b * c.qDim(), c.heads(), b);
            rope.rotate(k, b * c.kvDim(), c.kvHeads(), b);
        }
    }

    @Override
    public void finishLayer(int l, int n) {
        Layer layer = layers[l];
        int dim = c.dim();
        layer.wo().matmul(att, n, xb, pool);
        VectorMath.add(x, xb, n * dim);

        for (int b = 0; b < n; b++) {
            VectorMath.rmsNorm(xb, b * dim, x, b * dim, layer.ffnNorm(), dim, c.rmsEps());
        }
        gateUp[l].matmul(xb, n, hb, hb2, null, pool);
        for (int b = 0; b < n; b++) {
            GgmlMath.swiglu(hb, hb2, b * c.ffnDim(), c.ffnDim());
        }
        layer.down().matmul(hb, n, xb, pool);
        VectorMath.add(x, xb, n * dim);
    }

    @Override
    public void finalNorm(int first, int rows) {
        int dim = c.dim();
        for (int b = 0; b < rows; b++) {
            VectorMath.rmsNorm(xb, b * dim, x, (first + b) * dim, outputNorm, dim, c.rmsEps());
        }
    }
}
