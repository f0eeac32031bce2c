package io.llamux.model;

import io.llamux.tensor.HalfKeys;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The forward pass (llama2.c's run.c, batched): token embedding, then per layer the family's
 * {@link Block} around causal grouped-query attention over the KV cache, then the family's
 * final norm and the output head. What llama, qwen2 and gpt2 do differently (norms, Q/K/V
 * layout and biases, rotary or learned positions, SwiGLU or GELU) is in {@link LlamaBlock} and
 * {@link Gpt2Block}; attention and the cache are the same for all.
 *
 * <p>A call processes a batch of consecutive tokens at once: every matmul reads each weight
 * row once for the whole batch, and the KV cache is filled for all of them. Prompts go
 * through in batches of up to {@code maxBatch} tokens, generation one token at a time. All
 * buffers are allocated here, so the token loop allocates nothing.
 *
 * <p>Numerics follow ggml where it matters for matching llama.cpp's logits: RMSNorm's
 * double-precision sum, RoPE's angle recurrence in float, softmax with a double sum, and the
 * activation conversion done by each {@link Linear}.
 */
public final class Transformer {
    private final ModelConfig c;
    private final ModelWeights w;
    private final WorkerPool pool;
    private final int contextSize;
    private final int maxBatch;
    /** The cache forward passes read and write: this transformer's own, or one swapped in by {@link #useCache}. */
    private KvCache cache;

    // Activations for a batch, token-major: token b's vector starts at b * width (BatchBuffers).
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] att;
    /** The architecture family's block, chosen once from the weights. */
    private final Block block;
    private final float[] lastLogits;
    private float[] batchLogits = new float[0];
    private float[] rowLogits;
    private final AttentionTask attention;

    /** A transformer with llama.cpp's default cache: F16 keys and values. */
    public Transformer(ModelWeights weights, WorkerPool pool, int contextSize, int maxBatch) {
        this(weights, pool, contextSize, maxBatch, KvCache.Type.F16, KvCache.Type.F16);
    }

    public Transformer(ModelWeights weights, WorkerPool pool, int contextSize, int maxBatch,
                       KvCache.Type cacheK, KvCache.Type cacheV) {
        this.c = weights.config;
        this.w = weights;
        this.pool = pool;
        if (contextSize < 1) {
            throw new IllegalArgumentException("context size must be positive: " + contextSize);
        }
        this.contextSize = contextSize;
        this.maxBatch = Math.max(1, Math.min(maxBatch, contextSize));
        this.cache = new KvCache(c.layers(), contextSize, c.kvDim(), c.headDim(), cacheK, cacheV);
        BatchBuffers buffers = BatchBuffers.allocate(c, this.maxBatch, contextSize, pool);
        x = buffers.x();
        xb = buffers.xb();
        q = buffers.q();
        k = buffers.k();
        v = buffers.v();
        att = buffers.att();
        block = w.blocks.newBlock(w, buffers);
        lastLogits = new float[c.vocabSize()];
        attention = new AttentionTask(pool.threads(), contextSize);
    }

    public ModelConfig config() {
        return c;
    }

    public int contextSize() {
        return contextSize;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** The KV cache in use (its types and size). */
    public KvCache cache() {
        return cache;
    }

    /**
     * A new cache of this transformer's shape and types, for {@link #useCache}: one per
     * conversation lets several be continued without recomputing each other's prefixes.
     */
    public KvCache newCache() {
        return new KvCache(c.layers(), contextSize, c.kvDim(), c.headDim(), cache.keyType(), cache.valueType());
    }

    /**
     * Makes the following forward passes read and write {@code next} (from {@link #newCache},
     * or the one in use before). Attention's arithmetic was chosen for the cache types, so
     * those must be the same.
     */
    public void useCache(KvCache next) {
        if (next.keyType() != cache.keyType() || next.valueType() != cache.valueType()
                || next.byteSize() != cache.byteSize()) {
            throw new IllegalArgumentException("a cache of another shape or type than this transformer's");
        }
        cache = next;
    }

    /** Receives logits of consecutive tokens of one {@link #forward(int[], int, int, int, LogitsSink)} call. */
    @FunctionalInterface
    public interface LogitsSink {
        /**
         * @param first  index (within the call) of the first token whose logits are here
         * @param count  how many tokens: token {@code first + i}'s logits start at {@code i * vocabSize}
         * @param logits a buffer owned by the transformer, valid during the call only
         */
        void accept(int first, int count, float[] logits);
    }

    /** Rows of logits computed per output matmul when every token's logits are wanted: bounds the buffer. */
    static final int LOGIT_ROWS = 16;

    /**
     * Runs tokens like {@link #forward(int[], int, int, int, boolean)} and hands every token's
     * logits to {@code sink}, a few tokens at a time (so memory does not grow with {@code n}).
     */
    public void forward(int[] tokens, int off, int n, int pos, LogitsSink sink) {
        checkPositions(n, pos);
        if (rowLogits == null) {
            rowLogits = new float[Math.multiplyExact(Math.min(LOGIT_ROWS, maxBatch), c.vocabSize())];
        }
        for (int done = 0; done < n; done += maxBatch) {
            int len = Math.min(maxBatch, n - done);
            runBatch(tokens, off + done, len, pos + done);
            for (int r = 0; r < len; r += LOGIT_ROWS) {
                int rows = Math.min(LOGIT_ROWS, len - r);
                logitsOf(r, rows, rowLogits, 0);
                sink.accept(done + r, rows, rowLogits);
            }
        }
    }

    private void checkPositions(int n, int pos) {
        if (n < 1 || pos < 0 || pos + n > contextSize) {
            throw new IllegalArgumentException("positions " + pos + ".." + (pos + n - 1)
                    + " do not fit the context of " + contextSize + " tokens");
        }
    }

    /**
     * Runs tokens {@code tokens[off .. off+n)} at positions {@code pos .. pos+n-1}, writing their
     * keys and values into the cache (whatever the cache held from {@code pos} on is replaced).
     *
     * @param allLogits false: return the logits of the last token ({@code vocabSize} floats);
     *                  true: of every token, token-major ({@code n * vocabSize} floats)
     * @return a buffer owned by this object, valid until the next call
     */
    public float[] forward(int[] tokens, int off, int n, int pos, boolean allLogits) {
        checkPositions(n, pos);
        if (allLogits && batchLogits.length < (long) n * c.vocabSize()) {
            batchLogits = new float[Math.multiplyExact(n, c.vocabSize())];
        }
        for (int done = 0; done < n; done += maxBatch) {
            int len = Math.min(maxBatch, n - done);
            boolean last = done + len == n;
            runBatch(tokens, off + done, len, pos + done);
            if (allLogits) {
                logits(len, batchLogits, done * c.vocabSize(), len);
            } else if (last) {
                logits(len, lastLogits, 0, 1);
            }
        }
        return allLogits ? batchLogits : lastLogits;
    }

    private void runBatch(int[] tokens, int off, int n, int pos) {
        int dim = c.dim();
        for (int b = 0; b < n; b++) {
            int token = tokens[off + b];
            if (token < 0 || token >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + c.vocabSize());
            }
            w.tokenEmbedding.dequantizeRow(token, x, b * dim);
        }
        block.startBatch(n, pos);
        for (int l = 0; l < c.layers(); l++) {
            block.queriesKeysValues(l, n);
            cache.store(l, pos, n, k, v);
            attention.attend(l, n, pos);
            block.finishLayer(l, n);
        }
    }

    /** Final norm and output head for the last {@code rowsWanted} tokens of the batch of {@code n}. */
    private void logits(int n, float[] out, int outOff, int rowsWanted) {
        logitsOf(n - rowsWanted, rowsWanted, out, outOff);
    }

    /** Final norm and output head for tokens {@code first .. first+rowsWanted} of the batch. */
    private void logitsOf(int first, int rowsWanted, float[] out, int outOff) {
        block.finalNorm(first, rowsWanted);
        w.output.matmul(xb, rowsWanted, out, outOff, pool);
    }

    /**
     * Causal attention of every (token, head) pair of the batch, split over threads. With an
     * F16 or Q8_0 cache it is llama.cpp's CPU flash attention (see {@code flashAttend}); with an
     * F32 cache (the goldens) the arithmetic mirrors llama.cpp's non-flash path: KQ by ggml_vec_dot_f32
     * for a batch (the permuted Q is not contiguous) or tinyBLAS for one token, softmax over
     * the cache padded to a multiple of 8 (padding is masked to 0), and KQV by tinyBLAS, whose
     * 8 lanes each accumulate every 8th position.
     */
    /**
     * llama.cpp's KV cache hands attention a whole number of padded cells (masked to 0), so
     * every real position takes the vector paths (groups of 8 in softmax, of 32 in vec_dot);
     * any multiple of 32 gives the same bits.
     */
    static final int KV_PAD = 32;

    /** Prompts' flash attention by blocks of queries ({@code flashAttendBlock}); tests compare it with one query at a time. */
    static boolean queryBlocks = true;

    private final class AttentionTask implements WorkerPool.RangeTask {
        private final float[][] scores;
        private final float[][] laneAcc;
        /** Per worker: one query head in the key type's partner format (F16, Q8_0 caches). */
        private final MemorySegment[] queryHead;
        /** Per worker: an F16 cache's query head, rounded to halves and widened. */
        private final float[][] queryFloats;
        private final float scale = 1f / (float) Math.sqrt(c.headDim());
        /** An F32 cache: llama.cpp's non-flash arithmetic, as the goldens were made; otherwise flash attention. */
        private final boolean exact = cache.keyType() == KvCache.Type.F32 && cache.valueType() == KvCache.Type.F32;
        /** An F16 value cache: flash attention's accumulator is in half precision too (VKQ16). */
        private final boolean halfAcc = cache.valueType() == KvCache.Type.F16;
        private final QueryBlock[] blocks;
        private int layer;
        private int pos;
        private int n;
        private boolean single;
        private boolean blocked;

        AttentionTask(int threads, int contextSize) {
            scores = new float[threads][KV_PAD * ((contextSize + KV_PAD - 1) / KV_PAD)];
            laneAcc = new float[threads][(exact ? 32 : 1) * c.headDim()];
            queryHead = new MemorySegment[threads];
            queryFloats = new float[threads][c.headDim()];
            blocks = new QueryBlock[exact ? 0 : threads];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = new QueryBlock(c.headDim(), cache.queryFormat.rowBytes(c.headDim()));
            }
            if (!exact) {
                Arena arena = Arena.ofAuto();
                for (int i = 0; i < threads; i++) {
                    queryHead[i] = arena.allocate(cache.queryFormat.rowBytes(c.headDim()), 64);
                }
            }
        }

        void attend(int layer, int n, int pos) {
            this.layer = layer;
            this.pos = pos;
            this.n = n;
            this.single = n == 1;
            this.blocked = !exact && !single && queryBlocks;
            int items = blocked ? (n + QueryBlock.QUERIES - 1) / QueryBlock.QUERIES * c.heads() : n * c.heads();
            pool.run(items, this, (long) n * c.heads() * (pos + n) * c.headDim() * 2);
        }

        @Override
        public void run(int from, int to, int worker) {
            if (blocked) {
                for (int item = from; item < to; item++) {
                    int b0 = item / c.heads() * QueryBlock.QUERIES;
                    flashAttendBlock(b0, Math.min(QueryBlock.QUERIES, n - b0), item % c.heads(), blocks[worker]);
                }
                return;
            }
            float[] s = scores[worker];
            float[] acc = laneAcc[worker];
            MemorySegment qh = queryHead[worker];
            int hd = c.headDim();
            int group = c.heads() / c.kvHeads();
            MemorySegment keys = cache.keys(layer);
            MemorySegment values = cache.values(layer);
            for (int item = from; item < to; item++) {
                int b = item / c.heads();
                int h = item % c.heads();
                int qOff = b * c.qDim() + h * hd;
                int kvOff = (h / group) * hd;
                int len = pos + b + 1; // causal: this token sees itself and everything before
                if (!exact) {
                    flashAttend(keys, qh, queryFloats[worker], qOff, kvOff, hd, len, acc);
                    continue;
                }
                for (int t = 0; t < len; t++) {
                    s[t] = GgmlMath.dotVec(q, qOff, keys, cache.keyOffset(t, kvOff), hd) * scale;
                }
                int padded = KV_PAD * ((len + KV_PAD - 1) / KV_PAD);
                Arrays.fill(s, len, padded, Float.NEGATIVE_INFINITY);
                GgmlMath.softmax(s, padded);
                if (single) {
                    weightedSumVecDot(s, len, padded, values, kvOff, hd, acc, qOff);
                } else {
                    weightedSumTiny(s, len, values, kvOff, hd, acc, qOff);
                }
            }
        }

        /**
         * One (token, head) as llama.cpp's CPU flash attention (its path for F16 and Q8_0
         * caches): the query head converted to the key type's partner format, each position's
         * score by that type's dot product, online softmax (running max, exp in float, running
         * sum) with the values accumulated in float, divided by the sum at the end. One pass
         * over the cache; nothing sized by the context.
         */
        private void flashAttend(MemorySegment keys, MemorySegment qh, float[] qf, int qOff, int kvOff, int hd,
                                 int len, float[] acc) {
            // An F16 cache's query is rounded to halves once and kept widened (HalfKeys: the same
            // bits as widening its halves for every position).
            boolean halfKeys = cache.keyType() == KvCache.Type.F16;
            if (halfKeys) {
                HalfKeys.roundToHalves(q, qOff, hd, qf);
            } else {
                cache.queryFormat.quantize(q, qOff, hd, qh, 0);
            }
            Arrays.fill(acc, 0, hd, 0f);
            float max = Float.NEGATIVE_INFINITY;
            float sum = 0f;
            for (int t = 0; t < len; t++) {
                float s = (halfKeys ? HalfKeys.dot(keys, cache.keyOffset(t, kvOff), qf, hd)
                        : cache.keyDot.dot(keys, cache.keyOffset(t, kvOff), qh, 0, hd)) * scale;
                float ms = 1f;
                float vs = 1f;
                if (s > max) {
                    float old = max;
                    max = s;
                    ms = (float) Math.exp(old - max);
                    if (halfAcc) {
                        KvCache.scaleHalf(acc, hd, ms);
                    } else {
                        VectorMath.scale(acc, hd, ms);
                    }
                } else {
                    vs = (float) Math.exp(s - max);
                }
                if (halfAcc) {
                    cache.accumulateValueHalf(layer, t, kvOff, hd, vs, acc);
                } else {
                    cache.accumulateValue(layer, t, kvOff, hd, vs, acc);
                }
                sum = Math.fma(sum, ms, vs);
            }
            float inv = sum == 0f ? 0f : 1f / sum;
            for (int d = 0; d < hd; d++) {
                att[qOff + d] = acc[d] * inv;
            }
        }

        /**
         * {@link #flashAttend} for up to {@link QueryBlock#QUERIES} consecutive tokens of one
         * head at once: each position's key and value rows are widened once for all of them (an
         * F16 cache), and every query's arithmetic is {@code flashAttend}'s, in its order, so the
         * bits are the same.
         */
        private void flashAttendBlock(int b0, int nq, int h, QueryBlock qb) {
            int hd = c.headDim();
            int kvOff = (h / (c.heads() / c.kvHeads())) * hd;
            MemorySegment keys = cache.keys(layer);
            MemorySegment values = cache.values(layer);
            boolean halfKeys = cache.keyType() == KvCache.Type.F16;
            for (int i = 0; i < nq; i++) {
                int qOff = (b0 + i) * c.qDim() + h * hd;
                if (halfKeys) {
                    HalfKeys.roundToHalves(q, qOff, hd, qb.query[i]);
                } else {
                    cache.queryFormat.quantize(q, qOff, hd, qb.queryHead[i], 0);
                }
                Arrays.fill(qb.acc[i], 0, hd, 0f);
                qb.max[i] = Float.NEGATIVE_INFINITY;
                qb.sum[i] = 0f;
            }
            int seen = pos + b0; // query i sees positions t <= seen + i
            for (int t = 0; t < seen + nq; t++) {
                long ko = cache.keyOffset(t, kvOff);
                if (halfKeys) {
                    QueryBlock.HALF.dequantize(keys, ko, qb.key, 0, hd);
                }
                if (halfAcc) {
                    QueryBlock.HALF.dequantize(values, cache.valueOffset(t, kvOff), qb.value, 0, hd);
                }
                for (int i = Math.max(0, t - seen); i < nq; i++) {
                    float s = (halfKeys ? HalfKeys.dotWidened(qb.key, qb.query[i], hd)
                            : cache.keyDot.dot(keys, ko, qb.queryHead[i], 0, hd)) * scale;
                    float[] acc = qb.acc[i];
                    float ms = 1f;
                    float vs = 1f;
                    if (s > qb.max[i]) {
                        float old = qb.max[i];
                        qb.max[i] = s;
                        ms = (float) Math.exp(old - s);
                        if (halfAcc) {
                            KvCache.scaleHalf(acc, hd, ms);
                        } else {
                            VectorMath.scale(acc, hd, ms);
                        }
                    } else {
                        vs = (float) Math.exp(s - qb.max[i]);
                    }
                    if (halfAcc) {
                        KvCache.accumulateHalf(qb.value, vs, acc, hd);
                    } else {
                        cache.accumulateValue(layer, t, kvOff, hd, vs, acc);
                    }
                    qb.sum[i] = Math.fma(qb.sum[i], ms, vs);
                }
            }
            for (int i = 0; i < nq; i++) {
                int qOff = (b0 + i) * c.qDim() + h * hd;
                float inv = qb.sum[i] == 0f ? 0f : 1f / qb.sum[i];
                for (int d = 0; d < hd; d++) {
                    att[qOff + d] = qb.acc[i][d] * inv;
                }
            }
        }

        /** KQV as tinyBLAS: lane l accumulates positions t = l (mod 8), then lanes are added. */
        private void weightedSumTiny(float[] p, int len, MemorySegment values, int kvOff, int hd,
                                     float[] acc, int out) {
            Arrays.fill(acc, 0, 8 * hd, 0f);
            for (int t = 0; t < len; t++) {
                VectorMath.fmaInto(values, cache.valueOffset(t, kvOff), p[t], acc, (t & 7) * hd, hd);
            }
            for (int d = 0; d < hd; d++) {
                float a0 = acc[4 * hd + d] + acc[d];
                float a1 = acc[5 * hd + d] + acc[hd + d];
                float a2 = acc[6 * hd + d] + acc[2 * hd + d];
                float a3 = acc[7 * hd + d] + acc[3 * hd + d];
                att[out + d] = (a0 + a2) + (a1 + a3);
            }
        }

        /**
         * KQV as ggml_vec_dot_f32 (one token: llamafile's sgemm only takes two or more): 32
         * lanes, position t in lane t mod 32 up to the last multiple of 32, reduced in ggml's
         * order, then the tail one product at a time.
         */
        private void weightedSumVecDot(float[] p, int len, int padded, MemorySegment values, int kvOff, int hd,
                                       float[] acc, int out) {
            int np = padded & ~31;
            Arrays.fill(acc, 0, 32 * hd, 0f);
            for (int t = 0; t < Math.min(len, np); t++) {
                VectorMath.fmaInto(values, cache.valueOffset(t, kvOff), p[t], acc, (t & 31) * hd, hd);
            }
            for (int d = 0; d < hd; d++) {
                float sum = 0f;
                if (np > 0) {
                    float t0 = lane(acc, hd, d, 0) + lane(acc, hd, d, 4);
                    float t1 = lane(acc, hd, d, 1) + lane(acc, hd, d, 5);
                    float t2 = lane(acc, hd, d, 2) + lane(acc, hd, d, 6);
                    float t3 = lane(acc, hd, d, 3) + lane(acc, hd, d, 7);
                    sum = (t0 + t1) + (t2 + t3);
                }
                for (int t = np; t < len; t++) {
                    sum = Math.fma(values.get(FLOAT_LE, cache.valueOffset(t, kvOff) + 4L * d), p[t], sum);
                }
                att[out + d] = sum;
            }
        }

        /** Lane l of ggml's reduced accumulator: (a0 + a2) + (a1 + a3) of the four 8-lane vectors. */
        private static float lane(float[] acc, int hd, int d, int l) {
            float a0 = acc[l * hd + d];
            float a1 = acc[(8 + l) * hd + d];
            float a2 = acc[(16 + l) * hd + d];
            float a3 = acc[(24 + l) * hd + d];
            return (a0 + a2) + (a1 + a3);
        }
    }

    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
}
