package io.llamux.engine;

import io.llamux.sampling.SamplerSettings;
import io.llamux.gguf.FileTypes;
import io.llamux.gguf.GgufFile;
import io.llamux.gguf.TensorInfo;
import io.llamux.model.LinearFactory;
import io.llamux.model.ModelConfig;
import io.llamux.model.ModelWeights;
import io.llamux.model.Transformer;
import io.llamux.model.WorkerPool;
import io.llamux.sampling.Sampler;
import io.llamux.tensor.GgmlType;
import io.llamux.tensor.KernelWarmUp;
import io.llamux.tokenizer.TextDecoder;
import io.llamux.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A loaded model ready to generate: tokenizer, weights, worker threads and a KV cache. The
 * daemon and the {@code llamux} CLI both generate through {@link #generate}, so the same
 * prompt and settings give the same text in both.
 *
 * <p><b>What is streamed:</b> only the continuation. The prompt is not echoed by
 * {@code generate}; {@code llamux run} prints the prompt text itself before the stream, and
 * the daemon should do the same, so that both show "Once upon a time, there was ...".
 *
 * <p>A generation processes the prompt in batched passes, then samples tokens one at a time until an
 * end-of-generation token (not printed), {@code maxTokens}, a full context, or cancellation.
 * A KV cache ({@link CacheSlot}: the engine's own, or one of {@link #newCacheSlot}'s, one per
 * conversation) keeps what its last generation computed: a prompt that starts with the same tokens
 * (the next turn of a conversation: the previous prompt, the answer, the new message) processes
 * only the tokens after the common prefix. The result is the same as from an empty context,
 * because each token's keys and values depend only on the tokens before it.
 * One generation runs at a time (calls are serialised). The engine does not own the
 * {@link GgufFile}: close the file after the engine.
 */
public final class Engine implements AutoCloseable {
    private final Tokenizer tokenizer;
    private final ModelInfo info;
    private final WorkerPool pool;
    /** Repacked weights that could not stay in the model's bytes: freed by {@link #close}. */
    private final Arena weightMemory;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Transformer transformer;
    /** The transformer's own cache: the slot of generations that name none. */
    private final CacheSlot own;

    private Engine(Tokenizer tokenizer, ModelInfo info, WorkerPool pool, Arena weightMemory, Transformer transformer) {
        this.tokenizer = tokenizer;
        this.info = info;
        this.pool = pool;
        this.weightMemory = weightMemory;
        this.transformer = transformer;
        this.own = new CacheSlot(transformer.cache(), transformer.contextSize());
    }

    /**
     * Binds the model's tensors and allocates the KV cache and work buffers. Weights with a
     * faster layout (RepackedFormat: Q4_0, ...) are rearranged: where they lie when the file
     * is a writable copy ({@link GgufFile#parseOwnCopy}), otherwise into new memory, their
     * pages of a mapped file then dropped from the resident set. The rest are used where the
     * file maps them.
     *
     * @throws IllegalArgumentException when the model cannot be run (architecture, tensor
     *                                  missing or misshapen, unsupported type), with the reason
     */
    public static Engine load(GgufFile model, EngineOptions opts) {
        // Prompts multiply by every weight but the embedding (its rows are looked up) and the
        // output head (the last token's logits only): a Q4_0 file's Q6_K head needs no panels.
        KernelWarmUp.start(model.tensors().stream().map(TensorInfo::type).toList(), model.tensors().stream()
                .filter(t -> !t.name().equals("token_embd.weight") && !t.name().equals("output.weight"))
                .map(TensorInfo::type).toList());
        Tokenizer tokenizer = Tokenizer.fromGguf(model);
        int batch = opts.effectiveBatch();
        WorkerPool pool = new WorkerPool(opts.effectiveThreads());
        Arena weightMemory = Arena.ofShared();
        try {
            ModelWeights weights = ModelWeights.load(model, new LinearFactory(batch, pool, weightMemory));
            ModelConfig c = weights.config;
            if (tokenizer.vocabSize() != c.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                        + " tokens but token_embd.weight has " + c.vocabSize() + " rows");
            }
            int context = opts.effectiveContext(c.contextLength());
            Transformer transformer = new Transformer(weights, pool, context, batch,
                    opts.effectiveCacheK(), opts.effectiveCacheV());
            String name = model.metadata().getString("general.name", fileName(model.source()));
            ModelInfo info = new ModelInfo(name, c.architecture(), dominantType(model), model.parameterCount(),
                    c.vocabSize(), c.contextLength(), context, c.dim(), c.layers(), c.heads(), c.kvHeads(),
                    c.ffnDim(), pool.threads());
            return new Engine(tokenizer, info, pool, weightMemory, transformer);
        } catch (RuntimeException | OutOfMemoryError e) {
            pool.close();
            weightMemory.close();
            throw e;
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelInfo info() {
        return info;
    }

    /**
     * The forward pass, for this package's tools ({@link Perplexity}, {@link Benchmark}); lock the
     * engine. They overwrite the cache, so the next generation starts from an empty one.
     */
    Transformer transformer() {
        useOwnCache();
        return transformer;
    }

    /** The transformer on its own cache, emptied (for passes that overwrite it outside any slot). */
    private void useOwnCache() {
        own.clear();
        transformer.useCache(own.cache);
    }

    /**
     * The slot that generations naming none use (the engine's first cache, allocated at load):
     * a server that keeps several conversations can take it as the first of its slots.
     */
    public CacheSlot ownCacheSlot() {
        return own;
    }

    /** A new, empty slot with a KV cache of its own (off-heap, {@link CacheSlot#byteSize} bytes). */
    public synchronized CacheSlot newCacheSlot() {
        return new CacheSlot(transformer.newCache(), transformer.contextSize());
    }

    /**
     * Runs the forward pass on throwaway tokens for about {@code millis} milliseconds, so that
     * the JIT compiles the vector code before the first real request (which otherwise pays for
     * it: seconds on a busy machine). A daemon calls this before it reports ready; the next
     * generation is unaffected, as every generation starts from an empty context.
     *
     * @return the number of forward passes run
     */
    public synchronized int warmUp(long millis) {
        int context = transformer.contextSize();
        int batch = Math.min(8, Math.max(1, context - 1));
        int[] tokens = new int[batch];
        Arrays.fill(tokens, Math.max(0, tokenizer.bos()));
        long until = System.nanoTime() + millis * 1_000_000L;
        int passes = 0;
        useOwnCache();
        do {
            transformer.forward(tokens, 0, batch, 0, false);
            for (int pos = batch; pos < Math.min(context, batch + 8); pos++) {
                transformer.forward(tokens, 0, 1, pos, false);
            }
            passes++;
        } while (System.nanoTime() < until);
        return passes;
    }

    /** The prompt's token ids as generation sees them: BOS as the model asks, special-token text kept as text. */
    public int[] tokenize(String prompt) {
        return tokenizer.encode(prompt, true, false);
    }

    /**
     * Generates a continuation of {@code prompt}.
     *
     * @param maxTokens at most this many tokens (below 0: until EOS or the context is full)
     * @param onText    receives the text as soon as it forms whole UTF-8 characters; the
     *                  concatenation is the whole continuation
     * @param cancelled polled before every token; true stops with {@link StopReason#CANCELLED}
     * @throws IllegalArgumentException when the prompt is empty after tokenization or does not
     *                                  fit the context
     */
    public GenerationResult generate(String prompt, SamplerSettings s, int maxTokens,
                                     Consumer<String> onText, BooleanSupplier cancelled) {
        return generate(tokenize(prompt), s, maxTokens, id -> { }, onText, cancelled);
    }

    /**
     * {@link #generate(String, SamplerSettings, int, Consumer, BooleanSupplier)} from token ids,
     * also reporting each generated id to {@code onToken} (end-of-generation tokens excluded).
     * {@link GenerationResult#promptTokens()} counts the prompt tokens processed, after those
     * whose keys and values the cache still held ({@link GenerationResult#reusedTokens()}).
     */
    public GenerationResult generate(int[] promptTokens, SamplerSettings s, int maxTokens,
                                     IntConsumer onToken, Consumer<String> onText, BooleanSupplier cancelled) {
        return generate(own, promptTokens, s, maxTokens, onToken, onText, cancelled);
    }

    /** {@link #generate(int[], SamplerSettings, int, IntConsumer, Consumer, BooleanSupplier)} on {@code slot}'s cache. */
    public synchronized GenerationResult generate(CacheSlot slot, int[] promptTokens, SamplerSettings s, int maxTokens,
                                                  IntConsumer onToken, Consumer<String> onText,
                                                  BooleanSupplier cancelled) {
        int n = promptTokens.length;
        int context = transformer.contextSize();
        if (n == 0) {
            throw new IllegalArgumentException("the prompt is empty (this model adds no BOS token)");
        }
        if (n >= context) {
            throw new IllegalArgumentException("the prompt has " + n + " tokens; the context holds "
                    + context + " (prompt plus at least one generated token)");
        }
        Sampler sampler = new Sampler(s, transformer.config().vocabSize());
        for (int t : promptTokens) {
            sampler.accept(t);
        }
        TextDecoder decoder = new TextDecoder(tokenizer);
        if (cancelled.getAsBoolean()) {
            return new GenerationResult(n, 0, StopReason.CANCELLED, 0, 0);
        }

        // Reuse the cached prefix, but always run the last prompt token: its logits are needed.
        transformer.useCache(slot.cache);
        int[] cached = slot.tokens;
        int reused = 0;
        while (reused < slot.length && reused < n - 1 && cached[reused] == promptTokens[reused]) {
            reused++;
        }
        slot.length = reused; // positions from here on are being overwritten
        long t0 = System.nanoTime();
        float[] logits = transformer.forward(promptTokens, reused, n - reused, reused, false);
        long t1 = System.nanoTime();
        System.arraycopy(promptTokens, 0, cached, 0, n);
        slot.length = n;

        int[] next = new int[1];
        int generated = 0;
        int pos = n;
        StopReason reason;
        while (true) {
            if (maxTokens >= 0 && generated >= maxTokens) {
                reason = StopReason.LENGTH;
                break;
            }
            if (cancelled.getAsBoolean()) {
                reason = StopReason.CANCELLED;
                break;
            }
            int token = sampler.sample(logits);
            if (tokenizer.isEndOfGeneration(token)) {
                reason = StopReason.EOS;
                break;
            }
            generated++;
            sampler.accept(token);
            onToken.accept(token);
            String text = decoder.push(token);
            if (!text.isEmpty()) {
                onText.accept(text);
            }
            if (pos >= context) {
                reason = StopReason.CONTEXT;
                break;
            }
            if (maxTokens >= 0 && generated >= maxTokens) {
                reason = StopReason.LENGTH; // no need to compute logits nobody will sample
                break;
            }
            next[0] = token;
            logits = transformer.forward(next, 0, 1, pos, false);
            cached[pos++] = token;
            slot.length = pos;
        }
        long t2 = System.nanoTime();
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            onText.accept(rest);
        }
        int processed = n - reused;
        return new GenerationResult(processed, generated, reason, perSecond(processed, t1 - t0),
                perSecond(generated, t2 - t1), reused);
    }

    private static double perSecond(int tokens, long nanos) {
        return nanos <= 0 ? 0 : tokens * 1e9 / nanos;
    }

    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        pool.close();
        weightMemory.close();
    }

    private static String fileName(String source) {
        int slash = source.lastIndexOf('/');
        String f = source.substring(slash + 1);
        return f.endsWith(".gguf") ? f.substring(0, f.length() - 5) : f;
    }

    /**
     * The model's quantization as people name it: general.file_type (Q4_K_M), else the type
     * holding the most weight bytes.
     */
    private static String dominantType(GgufFile f) {
        String named = FileTypes.of(f);
        if (named != null) {
            return named;
        }
        Map<GgmlType, Long> bytes = new EnumMap<>(GgmlType.class);
        for (TensorInfo t : f.tensors()) {
            if (t.dims() >= 2) {
                bytes.merge(t.type(), t.byteSize(), Long::sum);
            }
        }
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name()).orElse("?");
    }
}
