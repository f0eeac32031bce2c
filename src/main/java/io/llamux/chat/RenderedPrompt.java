package io.llamux.chat;

import java.util.List;

/**
 * A rendered chat prompt: its text, cut into pieces that came from the template (where special
 * token text is meant as special tokens) and pieces that came from message contents (always
 * plain text, so a user cannot inject {@code <|end|>} or {@code <|im_start|>}).
 */
public record RenderedPrompt(String text, List<Piece> pieces) {
    /** A run of output text; {@code fromMessage} marks text taken from a message's content. */
    public record Piece(String text, boolean fromMessage) {}
}
