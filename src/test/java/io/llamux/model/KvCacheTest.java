package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import io.llamux.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KvCacheTest {
    private static final Path MODELS = Path.of("../shared/models");

    @Test
    void roundingToHalfAgreesWithTheJdksConversion() {
        Random rnd = new Random(11);
        float[] x = new float[8];
        float[] got = new float[8];
        for (int i = 0; i < 200_000; i++) {
            for (int j = 0; j < 8; j++) {
                // Magnitudes from 2^-30 (subnormal halves and below) to 2^15.
                x[j] = (float) ((rnd.nextBoolean() ? 1 : -1) * Math.pow(2, rnd.nextDouble() * 45 - 30));
            }
            System.arraycopy(x, 0, got, 0, 8);
            KvCache.scaleHalf(got, 8, 1f);
            for (int j = 0; j < 8; j++) {
                float want = Float.float16ToFloat(Float.floatToFloat16(x[j]));
                assertEquals(Float.floatToIntBits(want) & 0x7FFFFFFF, Float.floatToIntBits(got[j]) & 0x7FFFFFFF,
                        "f16(" + x[j] + ")");
            }
        }
    }

    /**
     * Flash attention's F16 value step in one pass is the old two (FMA the head in float, then
     * round every lane to a half) bit for bit, whatever the magnitudes (subnormal halves too)
     * and for a head length with a tail past the vectors.
     */
    @Test
    void oneValueStepInOnePassIsTheTwoPassStep() {
        Random rnd = new Random(5);
        for (int hd : new int[]{64, 12}) {
            KvCache cache = new KvCache(1, 16, hd, hd, KvCache.Type.F16, KvCache.Type.F16);
            float[] v = new float[16 * hd];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((rnd.nextBoolean() ? 1 : -1) * Math.pow(2, rnd.nextDouble() * 30 - 22));
            }
            cache.store(0, 0, 16, new float[16 * hd], v);
            float[] onePass = new float[hd];
            float[] twoPass = new float[hd];
            for (int t = 0; t < 16; t++) {
                float w = (float) Math.exp(-rnd.nextDouble() * 4);
                cache.accumulateValueHalf(0, t, 0, hd, w, onePass);
                cache.accumulateValue(0, t, 0, hd, w, twoPass);
                KvCache.scaleHalf(twoPass, hd, 1f);
                for (int d = 0; d < hd; d++) {
                    assertEquals(Float.floatToIntBits(twoPass[d]), Float.floatToIntBits(onePass[d]),
                            "head length " + hd + ", position " + t + ", element " + d);
                }
            }
        }
    }

    /**
     * A prompt's flash attention by blocks of queries (each position's rows widened once for
     * several tokens) gives the logits of one query at a time bit for bit, for F16 and Q8_0
     * caches, with a prompt that is not a whole number of blocks and a second batch that
     * starts past position 0.
     */
    @Test
    void queryBlocksGiveTheBitsOfOneQueryAtATime() throws Exception {
        Shared.require(MODELS);
        try (GgufFile f = GgufFile.open(MODELS.resolve("synthetic-F32.gguf"))) {
            for (KvCache.Type type : new KvCache.Type[]{KvCache.Type.F16, KvCache.Type.Q8_0}) {
                float[] blocks = twoBatches(f, type, true);
                float[] single = twoBatches(f, type, false);
                for (int i = 0; i < single.length; i++) {
                    assertEquals(Float.floatToIntBits(single[i]), Float.floatToIntBits(blocks[i]), type + " logit " + i);
                }
            }
        }
    }

    private static float[] twoBatches(GgufFile f, KvCache.Type type, boolean queryBlocks) {
        int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 20, 30, 40, 50, 60};
        boolean before = Transformer.queryBlocks;
        Transformer.queryBlocks = queryBlocks;
        try (WorkerPool pool = new WorkerPool(2)) {
            Transformer t = new Transformer(ModelWeights.load(f, new LinearFactory(16)), pool, 64, 16, type, type);
            t.forward(prompt, 0, 11, 0, false);
            return t.forward(prompt, 11, prompt.length - 11, 11, true).clone();
        } finally {
            Transformer.queryBlocks = before;
        }
    }

    @Test
    void cacheTypesAreSpelledAsLlamaCppSpellsThem() {
        assertEquals(KvCache.Type.Q8_0, KvCache.Type.parse("q8_0"));
        assertEquals(KvCache.Type.F16, KvCache.Type.parse("F16"));
        assertEquals("f32", KvCache.Type.F32.spelling());
        assertThrows(IllegalArgumentException.class, () -> KvCache.Type.parse("q4_0"));
    }

    @Test
    void theCacheLivesOffTheHeapAndHasLlamaCppsSize() {
        // F16: 2 bytes an element; Q8_0: 34 bytes per 32.
        KvCache f16 = new KvCache(2, 64, 128, 32, KvCache.Type.F16, KvCache.Type.Q8_0);
        assertEquals(2L * 64 * 128 * 2 + 2L * 64 * 128 / 32 * 34, f16.byteSize());
    }

    /** Logits of a prompt plus one decode step with the given cache types. */
    private static float[] logits(GgufFile f, KvCache.Type k, KvCache.Type v) {
        int[] prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 20, 30, 40, 50, 60};
        try (WorkerPool pool = new WorkerPool(2)) {
            Transformer t = new Transformer(ModelWeights.load(f, new LinearFactory(8)), pool, 64, 8, k, v);
            t.forward(prompt, 0, prompt.length, 0, false);
            return t.forward(new int[]{42}, 0, 1, prompt.length, false).clone();
        }
    }

    @Test
    void halfAndQ8CachesStayCloseToF32() throws Exception {
        Shared.require(MODELS);
        try (GgufFile f = GgufFile.open(MODELS.resolve("synthetic-F32.gguf"))) {
            float[] exact = logits(f, KvCache.Type.F32, KvCache.Type.F32);
            float max = 0;
            for (float e : exact) {
                max = Math.max(max, Math.abs(e));
            }
            for (KvCache.Type type : new KvCache.Type[]{KvCache.Type.F16, KvCache.Type.Q8_0}) {
                float[] got = logits(f, type, type);
                float worst = 0;
                for (int i = 0; i < exact.length; i++) {
                    worst = Math.max(worst, Math.abs(exact[i] - got[i]));
                }
                // F16 keeps 11 significant bits (relative error 2^-12), Q8_0 about 8 bits per
                // block; through two layers that moves logits by well under 2% of the largest.
                assertTrue(worst < 0.02f * max, type + ": logits moved by " + worst + " (largest |logit| " + max + ")");
                assertTrue(worst > 0f, type + ": the cache type must make some difference");
            }
        }
    }
}
