package io.llamux.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * A rendered chat prompt: its text, cut into pieces that came from the template (where special
 * token text is meant as special tokens) and pieces that came from message contents (always
 * plain text, so a user cannot inject {@code <|end|>} or {@code <|im_start|>}).
 */
public record RenderedPrompt(String text, List<Piece> pieces) {
    /** A run of output text; {@code fromMessage} marks text taken from a message's content. */
    public record Piece(String text, boolean fromMessage) {}

    /** Builds a prompt from template text and message text, merging neighbours of one kind. */
    static final class Builder {
        private final StringBuilder text = new StringBuilder();
        private final List<Piece> pieces = new ArrayList<>();
        private final StringBuilder run = new StringBuilder();
        private boolean runFromMessage;

        /** The format's own text: its special-token text is meant as special tokens. */
        Builder template(String s) {
            return add(s, false);
        }

        /** Text from a message: never special tokens. */
        Builder message(String s) {
            return add(s, true);
        }

        private Builder add(String s, boolean fromMessage) {
            if (s.isEmpty()) {
                return this;
            }
            if (fromMessage != runFromMessage && !run.isEmpty()) {
                flush();
            }
            runFromMessage = fromMessage;
            run.append(s);
            text.append(s);
            return this;
        }

        private void flush() {
            pieces.add(new Piece(run.toString(), runFromMessage));
            run.setLength(0);
        }

        RenderedPrompt build() {
            if (!run.isEmpty()) {
                flush();
            }
            return new RenderedPrompt(text.toString(), List.copyOf(pieces));
        }
    }
}
