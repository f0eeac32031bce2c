package io.llamux.engine;

import io.llamux.model.Transformer;
import java.util.function.DoubleConsumer;

/**
 * Perplexity as llama.cpp's llama-perplexity computes it: the tokens are cut into chunks of
 * {@code n} (the rest is dropped), each chunk's first token is replaced by BOS, the chunk is
 * evaluated from an empty context, and only its second half is scored: positions
 * {@code n/2 .. n-2} predict tokens {@code n/2+1 .. n-1} (the first half only gives context).
 */
public final class Perplexity {
    /** The final figure: exp(mean NLL), and llama.cpp's uncertainty of it. */
    public record Result(double ppl, double uncertainty, int chunks, int scoredTokens) {
    }

    private Perplexity() {
    }

    /**
     * @param n       the chunk size (at most the engine's context)
     * @param onChunk receives the running perplexity after each chunk
     * @throws IllegalArgumentException when there are fewer than 2n tokens (llama.cpp's rule)
     */
    public static Result compute(Engine engine, int[] tokens, int n, DoubleConsumer onChunk) {
        synchronized (engine) {
            return compute(engine.transformer(), tokens, n, engine.tokenizer().bos(), onChunk);
        }
    }

    private static Result compute(Transformer t, int[] tokens, int n, int bos, DoubleConsumer onChunk) {
        if (n > t.contextSize()) {
            throw new IllegalArgumentException("chunks of " + n + " tokens do not fit the context of " + t.contextSize());
        }
        if (n < 4) {
            throw new IllegalArgumentException("context size " + n + " is too small to score (need at least 4)");
        }
        if (tokens.length < 2 * n) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens; at least 2 * "
                    + n + " = " + 2 * n + " are needed (use a smaller -c)");
        }
        int chunks = tokens.length / n;
        int first = n / 2;
        int vocab = t.config().vocabSize();
        int[] chunk = new int[n];
        double[] sums = new double[2];
        double nll = 0;
        double nll2 = 0;
        int count = 0;
        for (int c = 0; c < chunks; c++) {
            System.arraycopy(tokens, c * n, chunk, 0, n);
            if (bos >= 0) {
                chunk[0] = bos;
            }
            // Logits arrive a few tokens at a time: memory stays bounded whatever -c and the vocabulary.
            t.forward(chunk, 0, n, 0, (from, rows, logits) -> {
                for (int i = 0; i < rows; i++) {
                    int j = from + i;
                    if (j >= first && j < n - 1) {
                        double v = negLogSoftmax(logits, i * vocab, vocab, chunk[j + 1]);
                        sums[0] += v;
                        sums[1] += v * v;
                    }
                }
            });
            count += n - 1 - first;
            nll = sums[0];
            nll2 = sums[1];
            onChunk.accept(Math.exp(nll / count));
        }
        double mean = nll / count;
        double ppl = Math.exp(mean);
        double var = nll2 / count - mean * mean;
        double uncertainty = var > 0 && count > 1 ? Math.sqrt(var / (count - 1)) * ppl : 0;
        return new Result(ppl, uncertainty, chunks, count);
    }

    /** -log softmax(logits)[target], with the max subtracted and the sum in double (as llama.cpp). */
    static double negLogSoftmax(float[] logits, int off, int n, int target) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return Math.log(sum) - (logits[off + target] - max);
    }
}
