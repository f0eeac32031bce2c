package io.llamux.chat;

import io.llamux.gguf.GgufFile;
import io.llamux.tokenizer.TextPiece;
import io.llamux.tokenizer.Tokenizer;
import io.llamux.tokenizer.Vocabulary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finding a model's chat format and turning a rendered conversation into token ids, as
 * llama.cpp does ({@code common_chat_templates_init}, {@code common_chat_templates_apply}).
 */
public final class ChatFormats {
    /** The GGUF key holding a model's Jinja chat template. */
    public static final String TEMPLATE_KEY = "tokenizer.chat_template";

    private ChatFormats() {
    }

    /**
     * The chat format for a model: {@code override} when given (a built-in name such as
     * {@code chatml}, else a file holding a Jinja template), else the model's
     * {@code tokenizer.chat_template}. The Jinja variables {@code bos_token} and
     * {@code eos_token} are the model's BOS and EOS token texts.
     *
     * @throws IllegalArgumentException when the model has no template and none is given, or the
     *                                  template does not parse (the message says which)
     * @throws IOException              when the override file cannot be read
     */
    public static ChatFormat forModel(GgufFile model, Tokenizer tokenizer, String override) throws IOException {
        String bos = tokenText(tokenizer, tokenizer.bos());
        String eos = tokenText(tokenizer, tokenizer.eos());
        if (override != null) {
            return named(override, bos, eos);
        }
        String source = model.metadata().getString(TEMPLATE_KEY, null);
        if (source == null) {
            throw new IllegalArgumentException(model.source() + " has no chat template (" + TEMPLATE_KEY
                    + "): give one with --chat-template NAME|FILE (names: " + String.join(", ", BuiltinFormats.names())
                    + ")");
        }
        return parse(source, "the chat template of " + model.source()).bind("the model's chat template", bos, eos);
    }

    /**
     * A built-in format by name, else the Jinja template in the file {@code nameOrFile}, with
     * these {@code bos_token} / {@code eos_token} texts (null: empty).
     */
    public static ChatFormat named(String nameOrFile, String bos, String eos) throws IOException {
        ChatFormat builtin = BuiltinFormats.named(nameOrFile);
        if (builtin != null) {
            return builtin;
        }
        Path file = Path.of(nameOrFile);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("chat template '" + nameOrFile + "': neither a built-in name ("
                    + String.join(", ", BuiltinFormats.names()) + ") nor a file");
        }
        return fromFile(file, bos, eos);
    }

    /** The Jinja template in a file (UTF-8). */
    public static ChatFormat fromFile(Path file, String bos, String eos) throws IOException {
        String source = Files.readString(file, StandardCharsets.UTF_8);
        return parse(source, file.toString()).bind(file.toString(), bos, eos);
    }

    private static ChatTemplate parse(String source, String where) {
        try {
            return ChatTemplate.parse(source);
        } catch (TemplateException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** A special token's text as templates see it (llama.cpp: the piece with special=true), or "". */
    public static String tokenText(Tokenizer tokenizer, int id) {
        return id == Vocabulary.NONE ? "" : new String(tokenizer.piece(id, true), StandardCharsets.UTF_8);
    }

    /**
     * The token ids of a rendered conversation: special tokens parsed in the format's own text
     * only, never in message text; BOS (and EOS) as the model asks. A BOS the template wrote
     * at the start (and an EOS at the end, for models that add one) is dropped first, as
     * llama.cpp does, so the prompt does not start with two.
     */
    public static int[] tokenize(Tokenizer tokenizer, RenderedPrompt prompt) {
        List<TextPiece> pieces = new ArrayList<>();
        for (RenderedPrompt.Piece p : prompt.pieces()) {
            pieces.add(new TextPiece(p.text(), !p.fromMessage()));
        }
        if (tokenizer.addBosByDefault() && !pieces.isEmpty() && pieces.getFirst().parseSpecial()) {
            String bos = tokenText(tokenizer, tokenizer.bos());
            String first = pieces.getFirst().text();
            if (!bos.isEmpty() && first.startsWith(bos)) {
                pieces.set(0, TextPiece.special(first.substring(bos.length())));
            }
        }
        if (tokenizer.vocabulary().addEos() && !pieces.isEmpty() && pieces.getLast().parseSpecial()) {
            String eos = tokenText(tokenizer, tokenizer.eos());
            String last = pieces.getLast().text();
            if (!eos.isEmpty() && last.endsWith(eos)) {
                pieces.set(pieces.size() - 1, TextPiece.special(last.substring(0, last.length() - eos.length())));
            }
        }
        return tokenizer.encode(pieces, true);
    }
}
