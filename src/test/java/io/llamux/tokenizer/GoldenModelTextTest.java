package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tokenizer side of every per-model golden file (../shared/golden/&lt;model&gt;.json): the
 * prompt tokenizes to {@code prompt_tokens}, and the generated {@code greedy_ids} print as
 * {@code greedy_text} (bytes: {@code greedy_text_utf8_hex}) when streamed through
 * {@link TextDecoder}, which is how the engine shows them.
 */
class GoldenModelTextTest {

    static Stream<Path> goldenFiles() throws IOException {
        Path dir = SharedFiles.require("golden");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> models = files.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .filter(p -> !p.getFileName().toString().startsWith("tokenizer-"))
                    .sorted().toList();
            assertTrue(models.size() >= 19, "per-model golden files: " + models);
            return models.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFiles")
    void promptTokensAndGreedyText(Path golden) throws IOException {
        JsonNode root = new ObjectMapper().readTree(golden.toFile());
        Tokenizer tok = SharedFiles.tokenizer("models/" + root.get("model_file").asText());
        assertEquals(root.get("vocab_size").asInt(), tok.vocabSize());
        assertEquals(root.get("bos_id").asInt(), tok.bos());
        assertEquals(root.get("eos_id").asInt(), tok.eos());
        assertEquals(root.get("add_bos").asBoolean(), tok.addBosByDefault());
        for (JsonNode c : root.get("cases")) {
            String name = golden.getFileName() + " " + c.get("name").asText();
            assertArrayEquals(ints(c.get("prompt_tokens")), tok.encode(c.get("prompt").asText(), true, false), name + " prompt_tokens");

            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            TextDecoder decoder = new TextDecoder(tok);
            StringBuilder streamed = new StringBuilder();
            for (int id : ints(c.get("greedy_ids"))) {
                bytes.writeBytes(tok.piece(id));
                streamed.append(decoder.push(id));
            }
            streamed.append(decoder.flush());
            assertEquals(c.get("greedy_text_utf8_hex").asText(), HexFormat.of().formatHex(bytes.toByteArray()), name + " piece bytes");
            assertEquals(c.get("greedy_text").asText(), streamed.toString(), name + " streamed text");
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
