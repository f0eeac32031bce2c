package io.llamux.tokenizer;

import io.llamux.gguf.GgufFile;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Text to token ids and back, as llama.cpp does it for the vocabulary in a GGUF file.
 *
 * <p>Obtain one with {@link #fromGguf} (or {@link #of(Vocabulary)} for a vocabulary built in
 * code). Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * Tokenizes UTF-8 text, as {@code llama_tokenize(text, add_special, parse_special)}.
     *
     * @param addSpecial add the special tokens the model asks for: BOS when the file says
     *        {@code add_bos_token} (true by default for SentencePiece, false for GPT-2 BPE), EOS
     *        when it says {@code add_eos_token}. Pass false for a bare continuation.
     * @param parseSpecial treat the text of control tokens (e.g. a literal {@code <s>}) as those
     *        tokens; when false it is tokenized as ordinary text. User-defined tokens are always
     *        matched, as in llama.cpp.
     */
    default int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    /**
     * Tokenizes raw bytes (for instance standard input). Invalid UTF-8 is handled as llama.cpp
     * handles it: a byte that does not start a valid character ends up as byte-fallback tokens
     * ({@code <0xNN>}).
     */
    int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial);

    /**
     * Tokenizes text made of pieces as if they were one text, except that control tokens are
     * parsed only where the whole of their text lies in pieces with
     * {@link TextPiece#parseSpecial()} (a chat template's text) and never in the others (the
     * messages). Text between special tokens is tokenized as a whole across piece boundaries,
     * so with no special-token text in the plain pieces the result equals
     * {@code encode(joined text, addSpecial, true)}.
     *
     * @param addSpecial as in {@link #encode(String, boolean, boolean)}: BOS (and EOS) when the
     *        file asks for them
     */
    int[] encode(List<TextPiece> pieces, boolean addSpecial);

    /**
     * The bytes a token prints as, like {@code llama_token_to_piece(special=false)}: a byte
     * token gives its byte, a control or unknown token gives nothing, SentencePiece's U+2581
     * becomes a space. The bytes of one token need not be whole UTF-8 characters; use
     * {@link TextDecoder} to stream text.
     */
    default byte[] piece(int token) {
        return piece(token, false);
    }

    /**
     * The bytes of a token; with {@code special} true, control and unknown tokens print their
     * text (e.g. {@code <s>}), as {@code llama_token_to_piece(special=true)}.
     */
    byte[] piece(int token, boolean special);

    /**
     * Ids back to text: the pieces ({@link #piece(int, boolean)}) joined, minus the space that
     * {@link #encode} put in front of text.
     *
     * <p>Precisely: a SentencePiece vocabulary with add_space_prefix makes encode turn the text
     * after the start and after every special token into {@code " " + text}. decode therefore
     * drops one leading space from the first token after the start and after every special
     * (control, unknown or user-defined) token, if that token's piece begins with a space.
     * Byte-level BPE adds no space, so there decode just joins the pieces. With that rule
     * {@code decode(encode(s, addSpecial, false), false) == s} for any valid UTF-8 {@code s}
     * (and with {@code parseSpecial} and {@code special} true when {@code s} holds special-token
     * text, unless the model strips spaces around them). Invalid UTF-8 in the joined bytes
     * becomes U+FFFD, as {@link TextDecoder} writes it.
     *
     * <p>This is not how generated text is shown: {@link TextDecoder} and llama.cpp's tools
     * print pieces as they are, leading space included.
     */
    default String decode(int[] tokens, boolean special) {
        Vocabulary v = vocabulary();
        boolean spacePrefix = v.model() == Vocabulary.Model.SPM && v.addSpacePrefix();
        int specialAttrs = TokenAttr.CONTROL | TokenAttr.UNKNOWN | TokenAttr.USER_DEFINED;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        boolean dropSpace = spacePrefix;
        for (int token : tokens) {
            byte[] p = piece(token, special);
            if (v.hasAttr(token, specialAttrs)) {
                out.writeBytes(p);
                dropSpace = spacePrefix;
                continue;
            }
            int from = dropSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
            out.write(p, from, p.length - from);
            dropSpace = false;
        }
        return TextDecoder.decode(out.toByteArray());
    }

    /** {@link #decode(int[], boolean)} with control tokens printing nothing. */
    default String decode(int[] tokens) {
        return decode(tokens, false);
    }

    Vocabulary vocabulary();

    /** The BOS token id, or {@link Vocabulary#NONE}. */
    default int bos() {
        return vocabulary().bos();
    }

    /** The EOS token id, or {@link Vocabulary#NONE}. */
    default int eos() {
        return vocabulary().eos();
    }

    default int vocabSize() {
        return vocabulary().size();
    }

    /** Whether the file asks for a BOS token at the start of a prompt (add_bos_token). */
    default boolean addBosByDefault() {
        return vocabulary().addBos();
    }

    /** Whether generation should stop at this token (EOS, EOT and similar end tokens). */
    default boolean isEndOfGeneration(int token) {
        return vocabulary().isEndOfGeneration(token);
    }

    /**
     * The tokenizer of a GGUF file: SentencePiece ({@code llama}) or byte-level BPE
     * ({@code gpt2} with the gpt-2, qwen2, starcoder, llama3, falcon, deepseek-llm or deepseek-coder
     * pre-tokenizers and their aliases). A
     * tokenizer or pre-tokenizer Llamux does not implement is an IllegalArgumentException
     * that names it.
     */
    static Tokenizer fromGguf(GgufFile file) {
        return of(Vocabulary.fromGguf(file));
    }

    /** The tokenizer for a vocabulary's model. */
    static Tokenizer of(Vocabulary vocabulary) {
        return switch (vocabulary.model()) {
            case SPM -> new SpmTokenizer(vocabulary);
            case BPE -> new BpeTokenizer(vocabulary);
        };
    }
}
