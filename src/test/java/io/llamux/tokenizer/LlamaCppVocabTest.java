package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0): each .inp string must give
 * the .out ids with add_special and parse_special off (so no BOS, but still the SentencePiece
 * space prefix). SentencePiece: llama-spm, phi-3; byte-level BPE: gpt-2, mpt (GPT-2 split),
 * starcoder, refact (digits split first), falcon, deepseek-llm and deepseek-coder: every
 * vocabulary in ../shared/tokenizer-tests.
 */
class LlamaCppVocabTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String vocab : List.of("llama-spm", "phi-3", "gpt-2", "mpt", "starcoder", "refact", "falcon",
                "deepseek-llm", "deepseek-coder")) {
            String base = "tokenizer-tests/ggml-vocab-" + vocab + ".gguf";
            String inp = Files.readString(SharedFiles.require(base + ".inp"), StandardCharsets.UTF_8);
            List<String> expected = Files.readAllLines(SharedFiles.require(base + ".out"), StandardCharsets.UTF_8);
            // The file ends with a separator: what follows the last one is not a case.
            List<String> texts = new ArrayList<>();
            int from = 0;
            for (int at; (at = inp.indexOf(SEPARATOR, from)) >= 0; from = at + SEPARATOR.length()) {
                texts.add(inp.substring(from, at));
            }
            assertEquals(texts.size(), expected.size(), base + ": one .out line per .inp string");
            for (int i = 0; i < texts.size(); i++) {
                out.add(Arguments.of(vocab + "#" + i, base, texts.get(i), expected.get(i)));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesLlamaCpp(String label, String model, String text, String expectedLine) {
        Tokenizer tok = SharedFiles.tokenizer(model);
        int[] expected = expectedLine.isBlank() ? new int[0]
                : Arrays.stream(expectedLine.trim().split(" +")).mapToInt(Integer::parseInt).toArray();
        int[] got = tok.encode(text, false, false);
        assertArrayEquals(expected, got, () -> "text " + text.replace("\n", "\\n") + " gave " + Arrays.toString(got));
        assertEquals(text, tok.decode(got), "decode(encode(text))");
    }
}
