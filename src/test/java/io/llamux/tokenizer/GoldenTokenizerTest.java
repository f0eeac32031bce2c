package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every string of the golden tokenizer files (recorded with llama-tokenize) gives the same ids
 * in every recorded mode, and decodes back to itself: SentencePiece (stories260K, LLaMA 32k)
 * and byte-level BPE (GPT-2, and the same vocabulary with Qwen2's pre-tokenizer).
 */
class GoldenTokenizerTest {

    static Stream<Arguments> cases() throws IOException {
        return Stream.of("stories260K", "llama-spm", "gpt2", "qwen2").flatMap(GoldenTokenizerTest::casesOf);
    }

    private static Stream<Arguments> casesOf(String name) {
        try {
            JsonNode root = new ObjectMapper().readTree(SharedFiles.require("golden/tokenizer-" + name + ".json").toFile());
            String model = root.get("model_file").asText();
            Stream.Builder<Arguments> out = Stream.builder();
            int i = 0;
            for (JsonNode c : root.get("cases")) {
                out.add(Arguments.of(name + "#" + i++, "models/" + model, c));
            }
            return out.build();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameIdsAsLlamaTokenize(String label, String model, JsonNode c) {
        Tokenizer tok = SharedFiles.tokenizer(model);
        // The tool read the text as raw bytes from stdin; use those exact bytes.
        byte[] text = HexFormat.of().parseHex(c.get("text_utf8_hex").asText());
        String shown = c.get("text").asText();
        assertArrayEquals(ids(c.get("ids_with_bos")), tok.encode(text, true, false), "ids_with_bos of " + shown);
        assertArrayEquals(ids(c.get("ids_no_bos")), tok.encode(text, false, false), "ids_no_bos of " + shown);
        assertArrayEquals(ids(c.get("ids_with_bos_parse_special")), tok.encode(text, true, true),
                "ids_with_bos_parse_special of " + shown);
        int[] withBos = ids(c.get("ids_with_bos"));
        JsonNode pieces = c.get("pieces_with_bos");
        for (int i = 0; i < withBos.length; i++) {
            assertEquals(pieces.get(i).asText(), tok.vocabulary().text(withBos[i]), "vocabulary text of token " + withBos[i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decodeGivesTheTextBack(String label, String model, JsonNode c) {
        Tokenizer tok = SharedFiles.tokenizer(model);
        byte[] text = HexFormat.of().parseHex(c.get("text_utf8_hex").asText());
        String s = new String(text, StandardCharsets.UTF_8);
        assertEquals(s, tok.decode(ids(c.get("ids_with_bos"))), "decode(ids_with_bos)");
        assertEquals(s, tok.decode(ids(c.get("ids_no_bos"))), "decode(ids_no_bos)");
        // With special-token text parsed, rendering control tokens as their text gives it back;
        // drop the BOS that encode added in front (SentencePiece; BPE adds none).
        int[] parsed = ids(c.get("ids_with_bos_parse_special"));
        int skip = tok.addBosByDefault() ? 1 : 0;
        int[] withoutBos = java.util.Arrays.copyOfRange(parsed, skip, parsed.length);
        assertEquals(s, tok.decode(withoutBos, true), "decode(ids_with_bos_parse_special minus BOS, special=true)");
    }
}
