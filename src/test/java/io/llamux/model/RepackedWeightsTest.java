package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.gguf.GgufFile;
import io.llamux.testing.Shared;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The two ways a weight reaches its repacked layout give the same model: into new memory from
 * a read-only mapping of the file (the CLI), and where it lies in a writable copy (the daemon's,
 * GgufFile.parseOwnCopy).
 * Bits equal, since the same layout is computed the same way; and the file, whose pages the
 * first way drops from the resident set, still loads the same afterwards.
 */
class RepackedWeightsTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final int[] PROMPT = {1, 15, 300, 42, 7, 99};

    /** The types whose layout takes exactly their rows' bytes, so the daemon's copy is rewritten. */
    @ParameterizedTest
    @ValueSource(strings = {"synthetic-Q4_0.gguf", "synthetic-Q8_0.gguf"})
    void inPlaceAndCopiedRepackingAgree(String file) throws Exception {
        Path model = MODELS.resolve(file);
        Shared.require(model);
        float[] mapped;
        float[] again;
        try (GgufFile f = GgufFile.open(model)) {
            mapped = logits(f);
            again = logits(f);
        }
        float[] owned;
        try (Arena arena = Arena.ofShared()) {
            byte[] bytes = Files.readAllBytes(model);
            MemorySegment copy = arena.allocate(bytes.length, 64).copyFrom(MemorySegment.ofArray(bytes));
            try (GgufFile f = GgufFile.parseOwnCopy(model.toString(), copy)) {
                owned = logits(f);
                boolean rewritten = !copy.asByteBuffer().equals(MemorySegment.ofArray(bytes).asByteBuffer());
                assertTrue(rewritten, "the writable copy was repacked where it lies");
            }
        }
        assertArrayEquals(mapped, again, 0f, "a second load of the same mapping");
        assertArrayEquals(mapped, owned, 0f, "repacked in place vs into new memory");
    }

    private static float[] logits(GgufFile f) {
        try (WorkerPool pool = new WorkerPool(2); Arena weights = Arena.ofShared()) {
            ModelWeights w = ModelWeights.load(f, new LinearFactory(8, pool, weights));
            Transformer t = new Transformer(w, pool, 64, 8);
            return t.forward(PROMPT, 0, PROMPT.length, 0, false).clone();
        }
    }
}
