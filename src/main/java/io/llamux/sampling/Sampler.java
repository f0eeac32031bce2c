package io.llamux.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits, the way llama.cpp's default sampler chain does:
 * repetition penalty, then top-k, top-p, min-p (all three on the untempered distribution),
 * then temperature, then a draw. With {@code temperature <= 0} the draw is replaced by the
 * argmax (ties to the lowest id), after the penalty.
 *
 * <p>The random numbers come from {@link SplittableRandom}, whose algorithm is specified by
 * the JDK: the same seed gives the same sequence on every machine and Java version, hence
 * the same text. Candidates are ordered by logit and then by id, so the result never depends
 * on sort stability.
 *
 * <p>One instance serves one generation at a time; it allocates only in its constructor.
 */
public final class Sampler {
    private final SamplerSettings settings;
    private final SplittableRandom random;
    private final int vocabSize;
    /** Candidates packed as (descending-logit key, id), see {@link #pack}. */
    private final long[] packed;
    private final float[] probs;
    /** The last {@code repeatLastN} tokens, as a ring. */
    private final int[] recent;
    private int recentCount;
    private int recentNext;
    /** Marks tokens already penalised in this step (a token seen twice is penalised once). */
    private final boolean[] penalised;

    public Sampler(SamplerSettings settings, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive: " + vocabSize);
        }
        validate(settings);
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        this.vocabSize = vocabSize;
        this.packed = new long[vocabSize];
        this.probs = new float[vocabSize];
        this.recent = new int[Math.max(0, settings.repeatLastN())];
        this.penalised = new boolean[vocabSize];
    }

    /** Rejects settings no sampler can honour, with the offending value in the message. */
    public static void validate(SamplerSettings s) {
        if (Float.isNaN(s.temperature())) {
            throw new IllegalArgumentException("temperature must be a number");
        }
        if (!(s.topP() > 0f && s.topP() <= 1f)) {
            throw new IllegalArgumentException("top-p must be in (0, 1]: " + s.topP());
        }
        if (!(s.minP() >= 0f && s.minP() <= 1f)) {
            throw new IllegalArgumentException("min-p must be in [0, 1]: " + s.minP());
        }
        if (!(s.repeatPenalty() > 0f) || Float.isInfinite(s.repeatPenalty())) {
            throw new IllegalArgumentException("repeat penalty must be a positive number: " + s.repeatPenalty());
        }
        if (s.repeatLastN() < 0) {
            throw new IllegalArgumentException("repeat-last-n must not be negative: " + s.repeatLastN());
        }
    }

    /** Records a token of the context (prompt or generated) for the repetition penalty. */
    public void accept(int token) {
        if (recent.length == 0) {
            return;
        }
        recent[recentNext] = token;
        recentNext = (recentNext + 1) % recent.length;
        recentCount = Math.min(recentCount + 1, recent.length);
    }

    /**
     * Chooses a token. {@code logits} is modified in place (penalty and temperature); pass a
     * scratch copy if the raw values are still needed.
     */
    public int sample(float[] logits) {
        applyRepeatPenalty(logits);
        if (settings.isGreedy()) {
            return argmax(logits, vocabSize);
        }
        int n = vocabSize;
        for (int i = 0; i < n; i++) {
            packed[i] = pack(logits[i], i);
        }
        int k = settings.topK() > 0 ? Math.min(settings.topK(), n) : n;
        if (k < n) {
            select(packed, 0, n - 1, k);
        }
        java.util.Arrays.sort(packed, 0, k);
        n = k;
        n = topP(logits, n);
        n = minP(logits, n);
        return draw(logits, n);
    }

    /** Index of the largest value; ties go to the lowest index (llama.cpp's greedy rule). */
    public static int argmax(float[] logits, int n) {
        int best = 0;
        float bestValue = logits[0];
        for (int i = 1; i < n; i++) {
            if (logits[i] > bestValue) {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    /**
     * llama.cpp's penalty: a recent token's logit is divided by the penalty when positive and
     * multiplied by it when negative, once per distinct token.
     */
    private void applyRepeatPenalty(float[] logits) {
        float penalty = settings.repeatPenalty();
        if (penalty == 1f || recentCount == 0) {
            return;
        }
        for (int i = 0; i < recentCount; i++) {
            int t = recent[i];
            if (t < 0 || t >= vocabSize || penalised[t]) {
                continue;
            }
            penalised[t] = true;
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
        for (int i = 0; i < recentCount; i++) {
            int t = recent[i];
            if (t >= 0 && t < vocabSize) {
                penalised[t] = false;
            }
        }
    }

    /** Softmax over the first {@code n} sorted candidates at temperature 1 into {@link #probs}. */
    private void softmax(float[] logits, int n, float temperature) {
        float max = logits[id(packed[0])];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp((logits[id(packed[i])] - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            probs[i] *= inv;
        }
    }

    /** Keeps the smallest prefix whose probability mass reaches top-p (at least one token). */
    private int topP(float[] logits, int n) {
        float p = settings.topP();
        if (p >= 1f) {
            return n;
        }
        softmax(logits, n, 1f);
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (cum >= p) {
                return i + 1;
            }
        }
        return n;
    }

    /** Drops candidates whose probability is below min-p times the top one (at least one stays). */
    private int minP(float[] logits, int n) {
        float minP = settings.minP();
        if (minP <= 0f) {
            return n;
        }
        // p_i >= minP * p_max  <=>  logit_i >= logit_max + ln(minP): no softmax needed.
        float threshold = logits[id(packed[0])] + (float) Math.log(minP);
        int keep = 1;
        while (keep < n && logits[id(packed[keep])] >= threshold) {
            keep++;
        }
        return keep;
    }

    private int draw(float[] logits, int n) {
        softmax(logits, n, settings.temperature());
        double u = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (u < cum) {
                return id(packed[i]);
            }
        }
        return id(packed[n - 1]);
    }

    /**
     * Packs a logit and an id into a long whose signed order is: higher logit first, then
     * lower id. The float is mapped to an int that orders like the float (sign-magnitude to
     * two's complement), negated for descending order, and the id fills the low 32 bits.
     */
    static long pack(float logit, int id) {
        int bits = Float.floatToIntBits(logit == 0f ? 0f : logit); // -0 and +0 tie
        int ordered = bits < 0 ? bits ^ 0x7FFFFFFF : bits;           // ascending with the float
        long descending = -(long) ordered;                           // fits: |ordered| < 2^31
        return (descending << 32) | (id & 0xFFFFFFFFL);
    }

    static int id(long packedValue) {
        return (int) packedValue;
    }

    /** Quickselect: afterwards the k smallest values of a[lo..hi] occupy a[lo..lo+k-1]. */
    private static void select(long[] a, int lo, int hi, int k) {
        int target = lo + k - 1;
        while (lo < hi) {
            long pivot = median3(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long median3(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
