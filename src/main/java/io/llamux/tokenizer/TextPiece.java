package io.llamux.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;

/**
 * One piece of a text to tokenize with {@link Tokenizer#encode(List, boolean)}: a chat
 * template's own text, where special-token text such as {@code <|user|>} becomes the special
 * token, or text that came from a message, where it stays plain text (no prompt injection
 * through the chat format).
 *
 * @param text the piece's text
 * @param parseSpecial whether control tokens written in this piece are parsed as those tokens
 */
public record TextPiece(String text, boolean parseSpecial) {
    public TextPiece {
        if (text == null) {
            throw new IllegalArgumentException("a text piece needs text");
        }
    }

    /** Template text: its special-token text is parsed. */
    public static TextPiece special(String text) {
        return new TextPiece(text, true);
    }

    /** Message text: tokenized as ordinary text (user-defined tokens still match, as in llama.cpp). */
    public static TextPiece plain(String text) {
        return new TextPiece(text, false);
    }

    /** The pieces' UTF-8 bytes joined, and which of those bytes may be part of a parsed special token. */
    record Joined(byte[] utf8, BitSet parseable) {
    }

    static Joined join(List<TextPiece> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitSet parseable = new BitSet();
        for (TextPiece piece : pieces) {
            byte[] b = piece.text.getBytes(StandardCharsets.UTF_8);
            if (piece.parseSpecial) {
                parseable.set(out.size(), out.size() + b.length);
            }
            out.writeBytes(b);
        }
        return new Joined(out.toByteArray(), parseable);
    }
}
