package io.llamux.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextDecoderTest {

    @Test
    void emojiSplitOverByteTokensComesOutWhole() {
        Tokenizer tok = SharedFiles.tokenizer("models/vocab-llama-spm.gguf");
        int[] ids = tok.encode("Hi 🙂!", false, false);
        Vocabulary v = tok.vocabulary();
        // The LLaMA vocabulary has no 🙂 (U+1F642, F0 9F 99 82): byte fallback gives four byte tokens.
        List<String> texts = new ArrayList<>();
        for (int id : ids) {
            texts.add(v.text(id));
        }
        int first = texts.indexOf("<0xF0>");
        assertEquals(List.of("<0xF0>", "<0x9F>", "<0x99>", "<0x82>"), texts.subList(first, first + 4), texts.toString());

        TextDecoder d = new TextDecoder(tok);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            String out = d.push(ids[i]);
            if (i >= first && i < first + 3) {
                assertEquals("", out, "nothing while the emoji is incomplete (token " + i + ")");
                assertTrue(d.hasPending());
            }
            if (i == first + 3) {
                assertEquals("🙂", out, "the whole emoji when its last byte arrives");
            }
            all.append(out);
        }
        all.append(d.flush());
        assertFalse(d.hasPending());
        // Pieces are printed as they are: the space prefix of the first word stays.
        assertEquals(" Hi 🙂!", all.toString());
    }

    @Test
    void controlTokensPrintNothing() {
        Tokenizer tok = SharedFiles.tokenizer("models/stories260K.gguf");
        TextDecoder d = new TextDecoder(tok);
        assertEquals("", d.push(tok.bos()));
        assertEquals("", d.push(tok.eos()));
        assertArrayEquals(new byte[0], tok.piece(tok.bos()));
        assertArrayEquals("<s>".getBytes(StandardCharsets.UTF_8), tok.piece(tok.bos(), true));
    }

    @Test
    void invalidBytesBecomeReplacementCharactersWithoutHoldingBackText() {
        TextDecoder d = new TextDecoder(null);
        // A lone continuation byte can never become valid: replaced at once, and 'a' follows.
        assertEquals("\uFFFDa", d.pushBytes(new byte[] {(byte) 0x80, 'a'}));
        // A 3-byte lead followed by ASCII: the lead alone is the ill-formed part.
        assertEquals("\uFFFDb", d.pushBytes(new byte[] {(byte) 0xE2, 'b'}));
        // Overlong (C0) and past-U+10FFFF (F5) leads are never valid.
        assertEquals("\uFFFD\uFFFD", d.pushBytes(new byte[] {(byte) 0xC0, (byte) 0xF5}));
        // E0 80 is overlong: E0 alone is replaced, then 80 alone.
        assertEquals("\uFFFD\uFFFD", d.pushBytes(new byte[] {(byte) 0xE0, (byte) 0x80}));
        // ED A0 would be a surrogate.
        assertEquals("\uFFFD\uFFFD", d.pushBytes(new byte[] {(byte) 0xED, (byte) 0xA0}));
    }

    @Test
    void unfinishedCharacterIsHeldThenFlushedAsOneReplacement() {
        TextDecoder d = new TextDecoder(null);
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        assertEquals("x", d.pushBytes(new byte[] {'x', euro[0]}));
        assertEquals("", d.pushBytes(new byte[] {euro[1]}));
        assertEquals("€", d.pushBytes(new byte[] {euro[2]}));
        assertEquals("", d.pushBytes(new byte[] {euro[0], euro[1]}));
        assertEquals("\uFFFD", d.flush(), "a cut-off sequence is one U+FFFD");
        assertEquals("", d.flush());
    }

    /**
     * Byte strings around the UTF-8 boundaries and what Python 3's
     * {@code bytes.decode("utf-8", "replace")} makes of them (as UTF-8 hex). Python follows
     * Unicode's "maximal subpart" practice; Java's own decoder does not for E0/ED/F0/F4 with a
     * bad second byte, so it cannot serve as the reference.
     */
    private static final String[][] PYTHON_REPLACE = {
            {"90ed7f", "efbfbdefbfbd7f"},
            {"ff", "efbfbd"},
            {"e0", "efbfbd"},
            {"7ff5a07f80", "7fefbfbdefbfbd7fefbfbd"},
            {"ef80bf80", "ef80bfefbfbd"},
            {"ef7f8fbf7f", "efbfbd7fefbfbdefbfbd7f"},
            {"ed7fbf7fff", "efbfbd7fefbfbd7fefbfbd"},
            {"90c2ef90ff8fc2", "efbfbdefbfbdefbfbdefbfbdefbfbdefbfbd"},
            {"9f8fa0e08f", "efbfbdefbfbdefbfbdefbfbdefbfbd"},
            {"807fa0f4ff", "efbfbd7fefbfbdefbfbdefbfbd"},
            {"dff0f0e0", "efbfbdefbfbdefbfbdefbfbd"},
            {"bf9fbf", "efbfbdefbfbdefbfbd"},
            {"c2", "efbfbd"},
            {"f4dff0c280", "efbfbdefbfbdefbfbdc280"},
            {"f5", "efbfbd"},
            {"9fdf90f4", "efbfbddf90efbfbd"},
            {"7f80ffdf", "7fefbfbdefbfbdefbfbd"},
            {"e0f4f0", "efbfbdefbfbdefbfbd"},
            {"80", "efbfbd"},
            {"f4807f", "efbfbd7f"},
            {"c2f0c2ede041", "efbfbdefbfbdefbfbdefbfbdefbfbd41"},
            {"e09f8ff4", "efbfbdefbfbdefbfbdefbfbd"},
            {"a0", "efbfbd"},
            {"c290bfededf480", "c290efbfbdefbfbdefbfbdefbfbd"},
            {"f0ed", "efbfbdefbfbd"},
            {"c090efffc0", "efbfbdefbfbdefbfbdefbfbdefbfbd"},
            {"efe0edbf9080", "efbfbdefbfbdefbfbdefbfbdefbfbdefbfbd"},
            {"90bf", "efbfbdefbfbd"},
            {"bf41f49fc0c2", "efbfbd41efbfbdefbfbdefbfbdefbfbd"},
            {"90", "efbfbd"},
            {"ffe0df90", "efbfbdefbfbddf90"},
            {"f57ff0ffeded", "efbfbd7fefbfbdefbfbdefbfbdefbfbd"},
            {"ed8ff4ed", "efbfbdefbfbdefbfbd"},
            {"9f8fdf7f", "efbfbdefbfbdefbfbd7f"},
            {"41", "41"},
            {"90ff8fe041", "efbfbdefbfbdefbfbdefbfbd41"},
            {"ed90c0e0e0", "efbfbdefbfbdefbfbdefbfbd"},
            {"8f8ff4f0", "efbfbdefbfbdefbfbdefbfbd"},
            {"f4c28090", "efbfbdc280efbfbd"},
            {"df", "efbfbd"},
    };

    @Test
    void agreesWithPythonsReplaceDecodingByteByByte() {
        java.util.HexFormat hex = java.util.HexFormat.of();
        for (String[] c : PYTHON_REPLACE) {
            byte[] b = hex.parseHex(c[0]);
            TextDecoder d = new TextDecoder(null);
            StringBuilder streamed = new StringBuilder();
            for (byte x : b) {
                streamed.append(d.pushBytes(new byte[] {x}));
            }
            streamed.append(d.flush());
            assertEquals(c[1], hex.formatHex(streamed.toString().getBytes(StandardCharsets.UTF_8)), "bytes " + c[0]);
        }
    }
}
