package io.llamux.tokenizer;

import static io.llamux.tokenizer.TokenAttr.TYPE_BYTE;
import static io.llamux.tokenizer.TokenAttr.TYPE_CONTROL;
import static io.llamux.tokenizer.TokenAttr.TYPE_NORMAL;
import static io.llamux.tokenizer.TokenAttr.TYPE_UNKNOWN;
import static io.llamux.tokenizer.TokenAttr.TYPE_UNUSED;
import static io.llamux.tokenizer.TokenAttr.TYPE_USER_DEFINED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The SentencePiece rules one at a time, on small vocabularies built for each rule. */
class SpmTokenizerTest {

    /** A vocabulary: unk, <s>, </s>, then the given (text, score, type) entries. */
    private static final class Vocab {
        final List<String> texts = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        final List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        final List<Integer> types = new ArrayList<>(List.of(TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL));

        Vocab add(String text, float score, int type) {
            texts.add(text);
            scores.add(score);
            types.add(type);
            return this;
        }

        Vocab normal(String... tokens) {
            for (String t : tokens) {
                add(t, 0f, TYPE_NORMAL);
            }
            return this;
        }

        Vocab bytes() {
            for (int b = 0; b < 256; b++) {
                add(String.format("<0x%02X>", b), 0f, TYPE_BYTE);
            }
            return this;
        }

        Vocabulary.Builder builder() {
            float[] s = new float[scores.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = scores.get(i);
            }
            return Vocabulary.builder(Vocabulary.Model.SPM, texts.toArray(String[]::new))
                    .scores(s).tokenTypes(types.stream().mapToInt(Integer::intValue).toArray());
        }

        Tokenizer tokenizer() {
            return Tokenizer.of(builder().build());
        }

        Tokenizer tokenizer(Consumer<Vocabulary.Builder> tweak) {
            Vocabulary.Builder b = builder();
            tweak.accept(b);
            return Tokenizer.of(b.build());
        }
    }

    private static List<String> texts(Tokenizer tok, int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(tok.vocabulary().text(id));
        }
        return out;
    }

    @Test
    void highestScoringPairMergesFirst() {
        Vocab v = new Vocab().normal("▁", "a", "b", "c").add("ab", -1f, TYPE_NORMAL).add("bc", -0.5f, TYPE_NORMAL);
        Tokenizer tok = v.tokenizer();
        assertEquals(List.of("▁", "a", "bc"), texts(tok, tok.encode("abc", false, false)));

        Vocab w = new Vocab().normal("▁", "a", "b", "c").add("ab", -0.5f, TYPE_NORMAL).add("bc", -1f, TYPE_NORMAL);
        Tokenizer tok2 = w.tokenizer();
        assertEquals(List.of("▁", "ab", "c"), texts(tok2, tok2.encode("abc", false, false)));
    }

    @Test
    void tiesGoToTheLeftmostPair() {
        Vocab v = new Vocab().normal("▁", "a", "b", "c").add("ab", -1f, TYPE_NORMAL).add("bc", -1f, TYPE_NORMAL);
        Tokenizer tok = v.tokenizer();
        assertEquals(List.of("▁", "ab", "c"), texts(tok, tok.encode("abc", false, false)));
        // "bca": the same scores, but now "bc" is further left.
        assertEquals(List.of("▁", "bc", "a"), texts(tok, tok.encode("bca", false, false)));
    }

    @Test
    void mergedSymbolsKeepMerging() {
        Vocab v = new Vocab().normal("▁", "a", "b", "c")
                .add("ab", -3f, TYPE_NORMAL).add("▁ab", -2f, TYPE_NORMAL).add("▁abc", -1f, TYPE_NORMAL);
        Tokenizer tok = v.tokenizer();
        assertEquals(List.of("▁abc"), texts(tok, tok.encode("abc", false, false)));
    }

    @Test
    void spacesBecomeTheSpaceMarkWithOnePrefixedSpace() {
        Vocab v = new Vocab().normal("▁", "a", "▁a");
        Tokenizer tok = v.tokenizer();
        assertEquals(List.of("▁a", "▁a"), texts(tok, tok.encode("a a", false, false)));
        assertEquals(List.of("▁", "▁a"), texts(tok, tok.encode(" a", false, false)));
        assertEquals(List.of(), texts(tok, tok.encode("", false, false)), "empty text: no tokens");
        assertEquals(List.of("<s>"), texts(tok, tok.encode("", true, false)), "empty text: just BOS");

        Tokenizer noPrefix = v.tokenizer(b -> b.addSpacePrefix(false));
        assertEquals(List.of("a", "▁a"), texts(noPrefix, noPrefix.encode("a a", false, false)));
    }

    @Test
    void missingCharactersFallBackToByteTokens() {
        Vocab v = new Vocab().normal("▁", "a").bytes();
        Tokenizer tok = v.tokenizer();
        assertEquals(List.of("▁", "a", "<0xC3>", "<0xA9>"), texts(tok, tok.encode("aé", false, false)));
    }

    @Test
    void invalidUtf8IsSplitByItsLeadByteLikeLlamaCpp() {
        Tokenizer tok = new Vocab().normal("▁", "a", "A").bytes().tokenizer();
        byte[] stray = {(byte) 0x80, 'a'};
        assertEquals(List.of("▁", "<0x80>", "a"), texts(tok, tok.encode(stray, false, false)));
        // E2 starts a 3-byte character, so E2 'A' 'a' is one (invalid) symbol: all three become bytes.
        byte[] cut = {(byte) 0xE2, 'A', 'a'};
        assertEquals(List.of("▁", "<0xE2>", "<0x41>", "<0x61>"), texts(tok, tok.encode(cut, false, false)));
    }

    @Test
    void withoutByteTokensTheUnknownTokenStandsIn() {
        Tokenizer tok = new Vocab().normal("▁", "a").tokenizer();
        assertEquals(List.of("▁", "<unk>", "<unk>"), texts(tok, tok.encode("é", false, false)));

        Tokenizer noUnk = new Vocab().normal("▁", "a").tokenizer(b -> b.unk(Vocabulary.NONE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noUnk.encode("é", false, false));
        assertTrue(e.getMessage().contains("0xC3"), e.getMessage());
    }

    @Test
    void controlTokenTextIsSpecialOnlyWhenParsed() {
        Tokenizer tok = new Vocab().normal("▁", "<", "s", ">", "x").tokenizer();
        assertEquals(List.of("<s>", "▁", "<", "s", ">", "x"), texts(tok, tok.encode("<s>x", true, false)));
        // Parsed, "<s>" is BOS, and the text after a special token gets its own space prefix.
        assertEquals(List.of("<s>", "<s>", "▁", "x"), texts(tok, tok.encode("<s>x", true, true)));
    }

    @Test
    void userDefinedTokensAreAlwaysSplitOut() {
        Tokenizer tok = new Vocab().normal("▁", "a", "b", "<", "u", ">").add("<u>", 0f, TYPE_USER_DEFINED).tokenizer();
        assertEquals(List.of("▁", "a", "<u>", "▁", "b"), texts(tok, tok.encode("a<u>b", false, false)));
        assertEquals("a<u>b", tok.decode(tok.encode("a<u>b", false, false)), "user-defined tokens print their text");
    }

    @Test
    void longerSpecialTokensWinOverShorterOnesInside() {
        Tokenizer tok = new Vocab().normal("▁", "x").add("<a>", 0f, TYPE_USER_DEFINED).add("<a><a>", 0f, TYPE_USER_DEFINED)
                .tokenizer();
        assertEquals(List.of("<a><a>", "<a>"), texts(tok, tok.encode("<a><a><a>", false, false)));
    }

    @Test
    void phi3SpecialTokensSwallowTheSpacesAfterThem() {
        Vocab v = new Vocab().normal("▁", "a", "b").add("<|end|>", 0f, TYPE_CONTROL);
        Tokenizer phi3 = v.tokenizer(b -> b.modelName("Phi3"));
        assertEquals(List.of("▁", "a", "<|end|>", "▁", "b"), texts(phi3, phi3.encode("a<|end|>  b", false, true)));
        // <s> is exempt from the rule.
        assertEquals(List.of("<s>", "▁", "▁", "▁", "b"), texts(phi3, phi3.encode("<s>  b", false, true)));

        Tokenizer other = v.tokenizer(b -> b.modelName("llama"));
        assertEquals(List.of("▁", "a", "<|end|>", "▁", "▁", "▁", "b"), texts(other, other.encode("a<|end|>  b", false, true)));
    }

    @Test
    void eosIsAddedWhenTheModelAsks() {
        Tokenizer tok = new Vocab().normal("▁", "a", "▁a").tokenizer(b -> b.addEos(true));
        assertEquals(List.of("<s>", "▁a", "</s>"), texts(tok, tok.encode("a", true, false)));
        assertEquals(List.of("▁a"), texts(tok, tok.encode("a", false, false)));
    }

    @Test
    void piecesFollowLlamaTokenToPiece() {
        Vocab v = new Vocab().normal("▁the", "a").bytes().add("[unused]", 0f, TYPE_UNUSED).add("<u>", 0f, TYPE_USER_DEFINED);
        Tokenizer tok = v.tokenizer();
        Vocabulary voc = tok.vocabulary();
        assertArrayEquals(" the".getBytes(StandardCharsets.UTF_8), tok.piece(voc.id("▁the")));
        assertArrayEquals(new byte[] {(byte) 0xF0}, tok.piece(voc.id("<0xF0>")));
        assertArrayEquals(new byte[0], tok.piece(voc.id("</s>")), "control: nothing");
        assertArrayEquals(new byte[0], tok.piece(voc.id("<unk>")), "unknown: nothing");
        assertArrayEquals("</s>".getBytes(StandardCharsets.UTF_8), tok.piece(voc.id("</s>"), true));
        assertArrayEquals(new byte[0], tok.piece(voc.id("[unused]"), true), "unused: nothing");
        assertArrayEquals("<u>".getBytes(StandardCharsets.UTF_8), tok.piece(voc.id("<u>")));
        assertThrows(IllegalArgumentException.class, () -> tok.piece(voc.size()));
        assertThrows(IllegalArgumentException.class, () -> tok.piece(-1));
    }

    @Test
    void decodeDropsOnlyTheSpaceEncodeAdded() {
        Tokenizer tok = new Vocab().normal("▁", "a", "▁a").tokenizer();
        for (String s : new String[] {"a", " a", "  a", "a a ", " "}) {
            assertEquals(s, tok.decode(tok.encode(s, true, false)), "with BOS: '" + s + "'");
            assertEquals(s, tok.decode(tok.encode(s, false, false)), "without BOS: '" + s + "'");
        }
    }

    @Test
    void endOfGenerationTokensAreFoundByText() {
        // A normal-typed <|end|> is control-looking: llama.cpp makes it CONTROL and end-of-generation.
        Tokenizer tok = new Vocab().normal("▁", "a", "<|end|>").tokenizer();
        Vocabulary voc = tok.vocabulary();
        int end = voc.id("<|end|>");
        assertTrue(tok.isEndOfGeneration(end));
        assertTrue(voc.hasAttr(end, TokenAttr.CONTROL));
        assertTrue(tok.isEndOfGeneration(tok.eos()));
        assertFalse(tok.isEndOfGeneration(tok.bos()));
        assertFalse(tok.isEndOfGeneration(voc.id("a")));
        assertEquals(end, voc.eot());
    }

    @Test
    void brokenVocabulariesAreRejectedClearly() {
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> new Vocab().normal("a", "a").tokenizer());
        assertTrue(dup.getMessage().contains("duplicate token"), dup.getMessage());

        IllegalArgumentException noBos = assertThrows(IllegalArgumentException.class,
                () -> new Vocab().normal("a").tokenizer(b -> b.bos(99)));
        assertTrue(noBos.getMessage().contains("BOS"), noBos.getMessage());

        IllegalArgumentException fewScores = assertThrows(IllegalArgumentException.class,
                () -> Vocabulary.builder(Vocabulary.Model.SPM, new String[] {"<unk>", "<s>", "</s>"}).scores(new float[2]).build());
        assertTrue(fewScores.getMessage().contains("scores"), fewScores.getMessage());
    }

    @Test
    void emptyTokenTextsCannotMatchEmptyText() {
        Vocabulary v = Vocabulary.builder(Vocabulary.Model.SPM, new String[] {"<unk>", "<s>", "</s>", ""}).build();
        assertEquals("[EMPTY_3]", v.text(3));
        assertArrayEquals(new int[] {1}, Tokenizer.of(v).encode("", true, false));
    }

    @Test
    void largeInputStaysFast() {
        // Not a timing test: a prompt of the kernel module's default size limit (64 KiB) must
        // simply finish (a merge quadratic in the text length would not, here).
        Tokenizer tok = SharedFiles.tokenizer("models/vocab-llama-spm.gguf");
        String para = "Once upon a time, there was a little girl named Lily. She loved to play outside. ";
        String big = para.repeat(65_536 / para.length());
        int[] ids = tok.encode(big, true, false);
        assertTrue(ids.length > 10_000, "ids: " + ids.length);
        assertEquals(big, tok.decode(ids));
        assertEquals(Arrays.stream(ids).filter(id -> id == tok.bos()).count(), 1);
    }
}
