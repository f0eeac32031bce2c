package io.llamux.cli;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.chat.RenderedPrompt;
import io.llamux.chat.TemplateException;
import io.llamux.gguf.GgufFile;
import io.llamux.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What the chat-aware commands share: reading a conversation file and finding a model's format. */
final class ChatInput {
    static final String TEMPLATE_HELP = "The chat format: a built-in name as llama.cpp names them (chatml, llama2, "
            + "llama3, phi3, zephyr, mistral-v1, mistral-v3, mistral-v7, gemma, ... see 'llamux chat-template --list') "
            + "or a file holding a Jinja template. Default: the model's tokenizer.chat_template.";

    private ChatInput() {
    }

    /** The conversation in a JSON file ({@code -}: standard input); a bad file names itself and the problem. */
    static List<ChatMessage> messages(Path file, InputStream stdin) throws IOException {
        boolean fromStdin = file.toString().equals("-");
        String json = fromStdin ? new String(stdin.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(file, StandardCharsets.UTF_8);
        try {
            return ChatMessage.listFromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((fromStdin ? "standard input" : file.toString()) + ": " + e.getMessage(), e);
        }
    }

    /** Renders; a template's own failure (its raise_exception, a bad expression) is an input error. */
    static RenderedPrompt render(ChatFormat format, List<ChatMessage> conversation, boolean addGenerationPrompt) {
        try {
            return format.render(conversation, addGenerationPrompt);
        } catch (TemplateException e) {
            throw new IllegalArgumentException("template error (" + format.name() + "): " + e.getMessage(), e);
        }
    }

    /** The model's format, or the one {@code --chat-template} names. */
    static ChatFormat format(GgufFile model, Tokenizer tokenizer, String override) throws IOException {
        return ChatFormats.forModel(model, tokenizer, override);
    }
}
