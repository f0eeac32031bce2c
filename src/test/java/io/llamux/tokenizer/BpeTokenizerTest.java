package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Byte-level BPE parts that the golden files exercise only indirectly. */
class BpeTokenizerTest {

    private static List<String> words(BpePreTokenizer pre, String text) {
        int[] cps = text.codePoints().toArray();
        IntList lengths = pre.split(cps);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < lengths.size(); i++) {
            out.add(new String(cps, start, lengths.get(i)));
            start += lengths.get(i);
        }
        assertEquals(cps.length, start, "the words cover the text");
        return out;
    }

    @Test
    void byteLevelAlphabetCoversEveryByteOnce() {
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) {
            all[b] = (byte) b;
        }
        String spelled = ByteLevel.encode(all);
        assertEquals(256, spelled.chars().distinct().count());
        assertEquals('Ġ', spelled.charAt(' '));
        assertEquals('Ċ', spelled.charAt('\n'));
        assertEquals('A', spelled.charAt('A'));
        assertArrayEquals(all, ByteLevel.decode(spelled));
    }

    @Test
    void gpt2SplitKeepsTheLastSpaceForTheNextWord() {
        assertEquals(List.of("Hello", " world"), words(BpePreTokenizer.GPT2, "Hello world"));
        assertEquals(List.of("a", "  ", " b"), words(BpePreTokenizer.GPT2, "a   b"));
        assertEquals(List.of("a", "   "), words(BpePreTokenizer.GPT2, "a   "), "trailing spaces stay together");
        assertEquals(List.of("don", "'t", " 12345", "!!"), words(BpePreTokenizer.GPT2, "don't 12345!!"));
        // A tab before a letter is whitespace that \s+(?!\S) cannot take: llama.cpp keeps it as a word.
        assertEquals(List.of("a", "\t", "b"), words(BpePreTokenizer.GPT2, "a\tb"));
    }

    @Test
    void qwen2SplitsDigitsOneByOne() {
        assertEquals(List.of("x", " ", "1", "2", "3"), words(BpePreTokenizer.QWEN2, "x 123"));
        assertEquals(List.of("a", "\n\n", "b"), words(BpePreTokenizer.QWEN2, "a\n\nb"));
        assertEquals(List.of("It", "'S"), words(BpePreTokenizer.QWEN2, "It'S"), "contractions in either case");
    }

    @Test
    void llama3GroupsDigitsByThree() {
        assertEquals(List.of("123", "45", " apples"), words(BpePreTokenizer.LLAMA3, "12345 apples"));
        assertEquals(List.of("I", "'M", " here", "!\n\n", "ok"), words(BpePreTokenizer.LLAMA3, "I'M here!\n\nok"));
    }

    @Test
    void mergesRunLowestRankFirstAndLlama3TakesWholeWordTokens() {
        // Byte-level texts: a, b, c, and merges giving "ab" (rank 0) and "bc" (rank 1).
        String[] tokens = {"a", "b", "c", "ab", "bc", "abc"};
        List<String[]> merges = List.of(new String[] {"a", "b"}, new String[] {"b", "c"});
        Tokenizer gpt2 = Tokenizer.of(Vocabulary.builder(Vocabulary.Model.BPE, tokens).pre("gpt-2").merges(merges).build());
        Vocabulary v = gpt2.vocabulary();
        // "ab" wins over "bc"; nothing merges "ab"+"c", so "abc" is never reached by merging.
        assertArrayEquals(new int[] {v.id("ab"), v.id("c")}, gpt2.encode("abc", false, false));
        Tokenizer llama3 = Tokenizer.of(Vocabulary.builder(Vocabulary.Model.BPE, tokens).pre("llama-bpe").merges(merges).build());
        assertArrayEquals(new int[] {v.id("abc")}, llama3.encode("abc", false, false), "ignore_merges: the word is a token");
    }

    @Test
    void unknownPreTokenizersAreRefusedByName() {
        Vocabulary v = Vocabulary.builder(Vocabulary.Model.BPE, new String[] {"a"}).pre("tekken").build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Tokenizer.of(v));
        assertTrue(e.getMessage().contains("'tekken'"), e.getMessage());
    }

    @Test
    void invalidUtf8BecomesReplacementCharactersLikeLlamaCpp() {
        Tokenizer tok = SharedFiles.tokenizer("models/vocab-gpt2.gguf");
        int[] bad = tok.encode(new byte[] {'a', (byte) 0xFF, 'b'}, false, false);
        int[] replaced = tok.encode("a\uFFFDb", false, false);
        assertArrayEquals(replaced, bad);
        assertEquals("a\uFFFDb", tok.decode(bad));
    }

    @Test
    void endOfTextIsControlAndEndsGeneration() {
        Tokenizer tok = SharedFiles.tokenizer("models/vocab-gpt2.gguf");
        int eot = tok.vocabulary().id("<|endoftext|>");
        assertEquals(50256, eot);
        assertTrue(tok.isEndOfGeneration(eot));
        assertEquals(0, tok.piece(eot).length);
        assertArrayEquals("<|endoftext|>".getBytes(StandardCharsets.UTF_8), tok.piece(eot, true));
        assertArrayEquals(" world".getBytes(StandardCharsets.UTF_8), tok.piece(tok.vocabulary().id("Ġworld")));
        assertTrue(!tok.addBosByDefault());
    }
}
