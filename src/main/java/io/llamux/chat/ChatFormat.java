package io.llamux.chat;

import java.util.List;

/**
 * How a conversation becomes a prompt: a model's Jinja template ({@link ChatTemplate#bind}) or
 * one of llama.cpp's built-in formats ({@link BuiltinFormats}). The result marks which text
 * came from the messages, so that only the format's own special-token text becomes special
 * tokens.
 */
public interface ChatFormat {
    /** What the format is, for messages: a built-in name, "the model's template", a file name. */
    String name();

    /**
     * Renders the conversation.
     *
     * @param addGenerationPrompt end with the opening of an assistant turn, for the model to write
     * @throws TemplateException when the template fails (e.g. its {@code raise_exception})
     */
    RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt);
}
