package io.llamux.chat;

/** One message of a conversation: a role ("system", "user", "assistant", ...) and its text. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || content == null) {
            throw new IllegalArgumentException("a message needs a role and a content");
        }
    }
}
