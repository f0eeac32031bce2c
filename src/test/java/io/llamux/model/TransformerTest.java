package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import io.llamux.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TransformerTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

    private static float[] logits(GgufFile f, int threads, int batch, boolean all) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            Transformer t = new Transformer(ModelWeights.load(f, new LinearFactory(batch)), pool, 64, batch);
            float[] first = t.forward(PROMPT, 0, PROMPT.length, 0, all).clone();
            float[] next = t.forward(new int[]{42}, 0, 1, PROMPT.length, false);
            float[] both = java.util.Arrays.copyOf(first, first.length + next.length);
            System.arraycopy(next, 0, both, first.length, next.length);
            return both;
        }
    }

    @Test
    void logitsDoNotDependOnTheThreadCount() throws Exception {
        Shared.require(MODELS);
        for (String m : new String[]{"synthetic-Q4_K_M", "synthetic-F32"}) {
            try (GgufFile f = GgufFile.open(MODELS.resolve(m + ".gguf"))) {
                float[] one = logits(f, 1, 16, true);
                assertArrayEquals(one, logits(f, 2, 16, true), m + ": 2 threads");
                assertArrayEquals(one, logits(f, 3, 16, true), m + ": 3 threads");
            }
        }
    }

    @Test
    void aPromptLongerThanTheBatchGoesThroughInSeveralBatches() throws Exception {
        Shared.require(MODELS);
        try (GgufFile f = GgufFile.open(MODELS.resolve("synthetic-Q8_0.gguf"))) {
            float[] whole = logits(f, 1, 16, false);
            float[] pieces = logits(f, 1, 5, false);
            // Batches of 5 change only how many tokens share a matmul, and tinyBLAS's order for
            // batches equals vec_dot's for Q8_0, so the numbers agree to float rounding.
            assertEquals(whole.length, pieces.length);
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], pieces[i], 1e-5f, "logit " + i);
            }
        }
    }

    @Test
    void positionsOutsideTheContextAreRefused() throws Exception {
        Shared.require(MODELS);
        try (GgufFile f = GgufFile.open(MODELS.resolve("stories260K.gguf"));
             WorkerPool pool = new WorkerPool(1)) {
            Transformer t = new Transformer(ModelWeights.load(f, new LinearFactory(8)), pool, 8, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.forward(PROMPT, 0, PROMPT.length, 0, false));
            assertTrue(e.getMessage().contains("context of 8"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.forward(new int[]{99_999}, 0, 1, 0, false));
        }
    }
}
