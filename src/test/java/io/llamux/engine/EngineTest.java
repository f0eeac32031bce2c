package io.llamux.engine;

import io.llamux.testing.Shared;
import io.llamux.sampling.SamplerSettings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llamux.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Engine.generate: what it streams and why it stops. */
class EngineTest {
    private static final Path MODELS = Path.of("../shared/models");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode firstCase(String stem) throws Exception {
        return JSON.readTree(Path.of("../shared/golden/" + stem + ".json").toFile()).get("cases").get(0);
    }

    @Test
    void streamsTheContinuationOnlyAndStopsAtTheTokenLimit() throws Exception {
        Shared.require(MODELS);
        JsonNode golden = firstCase("stories260K");
        try (GgufFile f = GgufFile.open(MODELS.resolve("stories260K.gguf"));
             Engine e = Engine.load(f, EngineOptions.defaults().withThreads(2))) {
            StringBuilder text = new StringBuilder();
            List<Integer> ids = new ArrayList<>();
            GenerationResult r = e.generate(e.tokenize("Once upon a time"), SamplerSettings.greedy(), 32,
                    ids::add, text::append, () -> false);
            assertEquals(golden.get("greedy_text").asText(), text.toString());
            assertArrayEquals(ints(golden.get("greedy_ids")), ids.stream().mapToInt(Integer::intValue).toArray());
            assertEquals(new GenerationResult(5, 32, StopReason.LENGTH, r.promptTokensPerSecond(),
                    r.generatedTokensPerSecond()), r);
            assertTrue(r.promptTokensPerSecond() > 0 && r.generatedTokensPerSecond() > 0);

            StringBuilder viaString = new StringBuilder();
            e.generate("Once upon a time", SamplerSettings.greedy(), 32, viaString::append, () -> false);
            assertEquals(text.toString(), viaString.toString(), "a cached prompt gives what an empty context gives");

            assertTrue(e.warmUp(200) >= 1);
            StringBuilder afterWarmUp = new StringBuilder();
            e.generate("Once upon a time", SamplerSettings.greedy(), 32, afterWarmUp::append, () -> false);
            assertEquals(text.toString(), afterWarmUp.toString(), "warming up leaves no trace");

            GenerationResult none = e.generate("Once upon a time", SamplerSettings.greedy(), 0, s -> { }, () -> false);
            assertEquals(StopReason.LENGTH, none.stopReason());
            assertEquals(0, none.generatedTokens());
        }
    }

    @Test
    void stopsAtEndOfTextWithoutPrintingIt() throws Exception {
        Shared.require(MODELS);
        JsonNode golden = firstCase("synthetic-F32"); // greedy emits EOS at index 3
        int eosAt = golden.get("greedy_first_eos_index").asInt();
        try (GgufFile f = GgufFile.open(MODELS.resolve("synthetic-F32.gguf"));
             Engine e = Engine.load(f, EngineOptions.defaults().withThreads(1))) {
            List<Integer> ids = new ArrayList<>();
            GenerationResult r = e.generate(ints(golden.get("prompt_tokens")), SamplerSettings.greedy(), 32,
                    ids::add, s -> { }, () -> false);
            assertEquals(StopReason.EOS, r.stopReason());
            assertEquals(eosAt, r.generatedTokens());
            int[] expected = java.util.Arrays.copyOf(ints(golden.get("greedy_ids")), eosAt);
            assertArrayEquals(expected, ids.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void stopsWhenCancelledOrWhenTheContextIsFull() throws Exception {
        Shared.require(MODELS);
        try (GgufFile f = GgufFile.open(MODELS.resolve("stories260K.gguf"));
             Engine e = Engine.load(f, EngineOptions.defaults().withContextSize(16).withThreads(1))) {
            assertEquals(16, e.info().contextSize());
            int[] count = {0};
            GenerationResult cancelled = e.generate(e.tokenize("Once upon a time"), SamplerSettings.greedy(), 100,
                    id -> count[0]++, s -> { }, () -> count[0] >= 3);
            assertEquals(StopReason.CANCELLED, cancelled.stopReason());
            assertEquals(3, cancelled.generatedTokens());

            // 5 prompt tokens: positions 5..15 take generated tokens, and the 12th has no room.
            GenerationResult full = e.generate("Once upon a time", SamplerSettings.greedy(), -1, s -> { }, () -> false);
            assertEquals(StopReason.CONTEXT, full.stopReason());
            assertEquals(12, full.generatedTokens());

            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> e.generate("Once upon a time ".repeat(10), SamplerSettings.greedy(), 1, s -> { }, () -> false));
            assertTrue(tooLong.getMessage().contains("the context holds 16"), tooLong.getMessage());
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }
}
