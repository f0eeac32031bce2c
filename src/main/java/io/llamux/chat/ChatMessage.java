package io.llamux.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** One message of a conversation: a role ("system", "user", "assistant", ...) and its text. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || content == null) {
            throw new IllegalArgumentException("a message needs a role and a content");
        }
    }

    /**
     * A conversation written as JSON, as chat APIs and llama.cpp write it: a list of
     * {@code {"role": "...", "content": "..."}} objects (other fields are ignored).
     *
     * @throws IllegalArgumentException when the text is not such a list; the message says where
     */
    public static List<ChatMessage> listFromJson(String json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException("expected a JSON list of {\"role\": ..., \"content\": ...} objects");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode m = root.get(i);
            String where = "message " + (i + 1);
            if (!m.isObject()) {
                throw new IllegalArgumentException(where + " is not an object with \"role\" and \"content\"");
            }
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || !role.isTextual() || role.asText().isEmpty()) {
                throw new IllegalArgumentException(where + " has no \"role\" string");
            }
            if (content == null || !content.isTextual()) {
                throw new IllegalArgumentException(where + " has no \"content\" string");
            }
            out.add(new ChatMessage(role.asText(), content.asText()));
        }
        return out;
    }
}
