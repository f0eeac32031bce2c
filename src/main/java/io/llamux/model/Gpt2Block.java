package io.llamux.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The gpt2 block: LayerNorm (with bias); one fused Q/K/V projection (+ bias) split into Q, K
 * and V; no rotary embedding (learned position rows are added to the token embeddings); after
 * attention the output projection (+ bias) and residual; LayerNorm, up (+ bias), GELU, down
 * (+ bias) and residual. The final norm is a LayerNorm with bias.
 */
final class Gpt2Block implements Block {
    /** One block's tensors; {@code wqkv}'s output rows are Q, then K, then V. */
    record Layer(float[] attnNorm, float[] attnNormBias, Linear wqkv, float[] bqkv, Linear wo, float[] bo,
                 float[] ffnNorm, float[] ffnNormBias, Linear up, float[] bUp, Linear down, float[] bDown) {
    }

    /** @param positions learned position embeddings, one row per position of the trained context */
    record Weights(Layer[] layers, float[] outputNorm, float[] outputNormBias, Linear positions)
            implements Block.Weights {
        @Override
        public List<Linear> matrices() {
            List<Linear> all = new ArrayList<>();
            for (Layer l : layers) {
                all.addAll(List.of(l.wqkv(), l.wo(), l.up(), l.down()));
            }
            return all;
        }

        @Override
        public Block newBlock(ModelWeights weights, BatchBuffers buffers) {
            return new Gpt2Block(weights.config, this, buffers);
        }
    }

    static Weights bind(TensorBinder b, ModelConfig c) {
        int qkv = c.qDim() + 2 * c.kvDim();
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    b.vector(p + "attn_norm.weight", c.dim()), b.vector(p + "attn_norm.bias", c.dim()),
                    b.matrix(p + "attn_qkv.weight", c.dim(), qkv), b.vector(p + "attn_qkv.bias", qkv),
                    b.matrix(p + "attn_output.weight", c.qDim(), c.dim()), b.vector(p + "attn_output.bias", c.dim()),
                    b.vector(p + "ffn_norm.weight", c.dim()), b.vector(p + "ffn_norm.bias", c.dim()),
                    b.matrix(p + "ffn_up.weight", c.dim(), c.ffnDim()), b.vector(p + "ffn_up.bias", c.ffnDim()),
                    b.matrix(p + "ffn_down.weight", c.ffnDim(), c.dim()), b.vector(p + "ffn_down.bias", c.dim()));
        }
        return new Weights(layers,
                b.vector("output_norm.weight", c.dim()),
                b.vector("output_norm.bias", c.dim()),
                b.matrix("position_embd.weight", c.dim(), c.contextLength()));
    }

    private final ModelConfig c;
    private final Layer[] layers;
    private final float[] outputNorm;
    private final float[] outputNormBias;
    private final Linear positions;
    private final WorkerPool pool;
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] att;
    /** The fused Q/K/V projection of the batch. */
    private final float[] qkv;
    /** The feed-forward's up projection of the batch. */
    private final float[] hb;
    private final float[] posRow;
    private final float[] lanes8 = new float[8];

    private Gpt2Block(ModelConfig c, Weights w, BatchBuffers s) {
        if (s.contextSize() > c.contextLength()) {
            throw new IllegalArgumentException("gpt2 has learned positions for " + c.contextLength()
                    + " tokens; the context cannot be " + s.contextSize());
        }
        this.c = c;
        this.layers = w.layers();
        this.outputNorm = w.outputNorm();
        this.outputNormBias = w.outputNormBias();
        this.positions = w.positions();
        this.pool = s.pool();
        this.x = s.x();
        this.xb = s.xb();
        this.q = s.q();
        this.k = s.k();
        this.v = s.v();
        this.att = s.att();
        this.qkv = new float[s.maxBatch() * (c.qDim() + 2 * c.kvDim())];
        this.hb = new float[s.maxBatch() * c.ffnDim()];
        this.posRow = new float[c.dim()];
    }

    /** Adds each token's learned position row to its embedding. */
    @Override
    public void startBatch(int n, int pos) {
        int dim = c.dim();
        for (int b = 0; b < n; b++) {
            positions.dequantizeRow(pos + b, posRow, 0);
            for (int i = 0; i < dim; i++) {
                x[b * dim + i] += posRow[i];
            }
        }
    }

    @Override
    public void queriesKeysValues(int l, int n) {
        Layer layer = layers[l];
        int dim = c.dim();
        int width = c.qDim() + 2 * c.kvDim();
        for (int b = 0; b < n; b++) {
            GgmlMath.layerNorm(xb, b * dim, x, b * dim, layer.attnNorm(), layer.attnNormBias(), dim, c.rmsEps(), lanes8);
        }
        layer.wqkv().matmul(xb, n, qkv, pool);
        VectorMath.addBias(qkv, layer.bqkv(), n);
        for (int b = 0; b < n; b++) {
            System.arraycopy(qkv, b * width, q, b * c.qDim(), c.qDim());
            System.arraycopy(qkv, b * width + c.qDim(), k, b * c.kvDim(), c.kvDim());
            System.arraycopy(qkv, b * width + c.qDim() + c.kvDim(), v, b * c.kvDim(), c.kvDim());
        }
    }

    @Override
    public void finishLayer(int l, int n) {
        Layer layer = layers[l];
        int dim = c.dim();
        layer.wo().matmul(att, n, xb, pool);
        VectorMath.addBias(xb, layer.bo(), n);
        VectorMath.add(x, xb, n * dim);

        for (int b = 0; b < n; b++) {
            GgmlMath.layerNorm(xb, b * dim, x, b * dim, layer.ffnNorm(), layer.ffnNormBias(), dim, c.rmsEps(), lanes8);
        }
        layer.up().matmul(xb, n, hb, pool);
        VectorMath.addBias(hb, layer.bUp(), n);
        GgmlMath.gelu(hb, 0, n * c.ffnDim());
        layer.down().matmul(hb, n, xb, pool);
        VectorMath.addBias(xb, layer.bDown(), n);
        VectorMath.add(x, xb, n * dim);
    }

    @Override
    public void finalNorm(int first, int rows) {
        int dim = c.dim();
        for (int b = 0; b < rows; b++) {
            GgmlMath.layerNorm(xb, b * dim, x, (first + b) * dim, outputNorm, outputNormBias, dim, c.rmsEps(), lanes8);
        }
    }
}
