package io.llamux.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplerTest {
    /** Logits whose softmax is 0.5, 0.25, 0.125, 0.0625, 0.0625 (ids 0..4). */
    private static float[] halves() {
        return new float[]{(float) Math.log(8), (float) Math.log(4), (float) Math.log(2), 0f, 0f};
    }

    private static SamplerSettings temp(float t, int topK, float topP, float minP) {
        return new SamplerSettings(t, topK, topP, minP, 1f, 64, 42);
    }

    private static int[] draws(SamplerSettings s, float[] logits, int n) {
        Sampler sampler = new Sampler(s, logits.length);
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits.clone())]++;
        }
        return counts;
    }

    @Test
    void greedyTakesTheLargestAndBreaksTiesToTheLowestId() {
        Sampler s = new Sampler(SamplerSettings.greedy(), 4);
        assertEquals(2, s.sample(new float[]{1f, 3f, 5f, 5f}));
        assertEquals(0, s.sample(new float[]{-1f, -1f, -2f, -3f}));
    }

    @Test
    void theSameSeedGivesTheSameSequenceAndAnotherSeedAnother() {
        float[] logits = new float[64];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.sin(i);
        }
        SamplerSettings a = new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 7);
        int[] first = sequence(a, logits);
        int[] second = sequence(a, logits);
        int[] other = sequence(new SamplerSettings(1f, 0, 1f, 0f, 1f, 64, 8), logits);
        assertArrayEquals(first, second);
        assertFalse(java.util.Arrays.equals(first, other));
    }

    private static int[] sequence(SamplerSettings s, float[] logits) {
        Sampler sampler = new Sampler(s, logits.length);
        int[] ids = new int[50];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = sampler.sample(logits.clone());
        }
        return ids;
    }

    @Test
    void atTemperatureOneFrequenciesFollowTheSoftmax() {
        int n = 40_000;
        int[] c = draws(temp(1f, 0, 1f, 0f), halves(), n);
        double[] p = {0.5, 0.25, 0.125, 0.0625, 0.0625};
        for (int i = 0; i < p.length; i++) {
            double sd = Math.sqrt(n * p[i] * (1 - p[i]));
            assertEquals(n * p[i], c[i], 5 * sd, "token " + i + " drawn " + c[i] + " times");
        }
    }

    @Test
    void lowTemperatureSharpensTheDistribution() {
        int[] c = draws(temp(0.25f, 0, 1f, 0f), halves(), 10_000);
        // p ∝ p_i^4: 0.5^4 / Σ = 0.0625/0.06665 ≈ 0.938.
        assertTrue(c[0] > 9_000 && c[0] < 9_700, "top token drawn " + c[0] + " of 10000");
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        int[] c = draws(temp(1f, 2, 1f, 0f), halves(), 5_000);
        assertEquals(0, c[2] + c[3] + c[4]);
        assertTrue(c[0] > c[1] && c[1] > 1_000);
        int[] one = draws(temp(5f, 1, 1f, 0f), halves(), 1_000);
        assertEquals(1_000, one[0]);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingTheMass() {
        // 0.5 + 0.25 = 0.75 >= 0.7: ids 0 and 1 only.
        int[] c = draws(temp(1f, 0, 0.7f, 0f), halves(), 5_000);
        assertEquals(0, c[2] + c[3] + c[4]);
        assertTrue(c[1] > 1_000);
        // Top-p below the top probability keeps exactly one token.
        assertEquals(2_000, draws(temp(1f, 0, 0.3f, 0f), halves(), 2_000)[0]);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        // min-p 0.2: keep p >= 0.1, i.e. ids 0, 1, 2.
        int[] c = draws(temp(1f, 0, 1f, 0.2f), halves(), 5_000);
        assertEquals(0, c[3] + c[4]);
        assertTrue(c[2] > 200);
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogitsOnce() {
        Sampler s = new Sampler(new SamplerSettings(0f, 0, 1f, 0f, 2f, 3, 0), 4);
        s.accept(0);
        s.accept(0); // twice in the window, penalised once
        s.accept(3);
        float[] logits = {4f, 2.5f, 1f, -1f};
        assertEquals(1, s.sample(logits));
        assertEquals(2f, logits[0]);
        assertEquals(-2f, logits[3]);
        // The window forgets: after three other tokens, id 0 is free again.
        s.accept(2);
        s.accept(2);
        s.accept(2);
        float[] again = {4f, 2.5f, 1f, -1f};
        assertEquals(0, s.sample(again));
        assertEquals(0.5f, again[2]);
    }

    @Test
    void packOrdersByDescendingLogitThenAscendingId() {
        float[] values = {Float.NEGATIVE_INFINITY, -3f, -0f, 0f, 1e-30f, 2f, Float.MAX_VALUE};
        long prev = Long.MAX_VALUE;
        for (float v : values) {
            long p = Sampler.pack(v, 5);
            assertTrue(p < prev || v == 0f, "order at " + v);
            prev = p;
        }
        assertTrue(Sampler.pack(1f, 3) < Sampler.pack(1f, 4));
        assertEquals(12345, Sampler.id(Sampler.pack(-7f, 12345)));
    }

    @Test
    void impossibleSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(temp(1f, 0, 0f, 0f), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(temp(1f, 0, 1f, 1.5f), 4));
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(new SamplerSettings(1f, 0, 1f, 0f, 0f, 64, 0), 4));
    }
}
