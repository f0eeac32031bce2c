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
