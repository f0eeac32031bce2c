package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The tokens generation stops at (llama.cpp's special_eog_ids): EOS, EOT, EOM and the
 * vocabulary's end-of-turn texts, compared with what llama.cpp itself prints for each
 * vocabulary in ../shared ({@code llama-tokenize -v}: "EOG token = 32007 '<|end|>'").
 */
class EndOfGenerationTest {
    private static final Pattern EOG_LINE = Pattern.compile("EOG token\\s+= (\\d+) ");
    private static final List<String> FILES = List.of(
            "models/synthetic-chat-Q8_0.gguf", "models/synthetic-gpt2-Q8_0.gguf", "models/synthetic-qwen2-Q8_0.gguf",
            "models/vocab-llama-spm.gguf",
            "tokenizer-tests/ggml-vocab-deepseek-coder.gguf", "tokenizer-tests/ggml-vocab-deepseek-llm.gguf",
            "tokenizer-tests/ggml-vocab-falcon.gguf", "tokenizer-tests/ggml-vocab-gpt-2.gguf",
            "tokenizer-tests/ggml-vocab-llama-spm.gguf", "tokenizer-tests/ggml-vocab-mpt.gguf",
            "tokenizer-tests/ggml-vocab-phi-3.gguf", "tokenizer-tests/ggml-vocab-refact.gguf",
            "tokenizer-tests/ggml-vocab-starcoder.gguf");

    @TestFactory
    Stream<DynamicTest> theSetIsLlamaCpps() {
        Path tool = SharedFiles.SHARED.resolve("bench/llama.cpp/llama-tokenize");
        return FILES.stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            Path path = SharedFiles.require(f);
            Shared.require(tool);
            int[] expected = llamaCppEog(tool, path);
            assertTrue(expected.length > 0, "llama-tokenize printed no EOG token for " + f);
            int[] got = SharedFiles.tokenizer(f).vocabulary().endOfGenerationIds();
            assertArrayEquals(expected, got);
        }));
    }

    private static int[] llamaCppEog(Path tool, Path model) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(tool.toString(), "-m", model.toString(), "-p", "hi", "-v")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "llama-tokenize hung");
        List<Integer> ids = new ArrayList<>();
        Matcher m = EOG_LINE.matcher(out);
        while (m.find()) {
            ids.add(Integer.parseInt(m.group(1)));
        }
        return ids.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    private static Vocabulary.Builder bpe(String... tokens) {
        return Vocabulary.builder(Vocabulary.Model.BPE, tokens);
    }

    @Test
    void eosEotAndEomEndGeneration() {
        Vocabulary v = bpe("a", "b", "<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>", "<|python_tag|>")
                .bos(2).eos(4).build();
        assertEquals(3, v.eot(), "found by its text");
        assertEquals(5, v.eom(), "found by its text");
        assertArrayEquals(new int[] {3, 4, 5}, v.endOfGenerationIds());
        assertTrue(v.hasAttr(5, TokenAttr.CONTROL), "an EOG token is a control token");
        assertFalse(v.isEndOfGeneration(6));

        // Ids the file names win over the texts, and need not look like end tokens.
        Vocabulary named = bpe("a", "b", "<stop>", "<done>", "<eot>").eos(0).eot(4).eom(2).build();
        assertEquals(2, named.eom());
        assertArrayEquals(new int[] {0, 2, 4}, named.endOfGenerationIds());
    }

    @Test
    void gptOssEndIsNotTheEndOfTheAnswer() {
        // o200k_harmony: <|end|> closes a message; the answer ends at <|return|> or <|call|>.
        Vocabulary harmony = bpe("a", "<|endoftext|>", "<|return|>", "<|end|>", "<|call|>").eos(2).build();
        assertArrayEquals(new int[] {1, 2, 4}, harmony.endOfGenerationIds());
        assertEquals(TokenAttr.USER_DEFINED, harmony.attr(3));
        // Without <|call|>, <|end|> stays the end of turn (Phi-3).
        Vocabulary phi = bpe("a", "<|endoftext|>", "<|return|>", "<|end|>").eos(1).build();
        assertArrayEquals(new int[] {1, 2, 3}, phi.endOfGenerationIds());
    }

    @Test
    void gemma4SlashSIsText() {
        Vocabulary gemma4 = bpe("a", "<eos>", "</s>", "<|tool_response>").eos(1).build();
        assertArrayEquals(new int[] {1, 3}, gemma4.endOfGenerationIds());
        assertEquals(TokenAttr.NORMAL, gemma4.attr(2));
    }
}
