package io.llamux.tokenizer;

/**
 * Token attributes as bit flags, the way llama.cpp keeps them (llama_token_attr).
 *
 * <p>GGUF stores one token type per token ({@code tokenizer.ggml.token_type}: 0 undefined,
 * 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). llama.cpp turns that type
 * into one attribute and then adds more from the vocabulary itself (a control-looking
 * {@code <|end|>} marked NORMAL becomes CONTROL too; phi-3 special tokens get RSTRIP), which is
 * why a token can carry several flags and why they are bits and not an enum.
 */
public final class TokenAttr {
    public static final int UNDEFINED = 0;
    public static final int UNKNOWN = 1;
    public static final int UNUSED = 1 << 1;
    public static final int NORMAL = 1 << 2;
    public static final int CONTROL = 1 << 3;
    public static final int USER_DEFINED = 1 << 4;
    public static final int BYTE = 1 << 5;
    /** Spaces to the left of the token's text are dropped when the text is split on it. */
    public static final int LSTRIP = 1 << 7;
    /** Spaces to the right of the token's text are dropped when the text is split on it. */
    public static final int RSTRIP = 1 << 8;

    /** GGUF token type codes ({@code tokenizer.ggml.token_type}). */
    public static final int TYPE_UNDEFINED = 0;
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    private TokenAttr() {
    }

    /** The attribute a GGUF token type stands for; unknown codes read as UNDEFINED, as in llama.cpp. */
    public static int fromType(int tokenType) {
        return switch (tokenType) {
            case TYPE_NORMAL -> NORMAL;
            case TYPE_UNKNOWN -> UNKNOWN;
            case TYPE_CONTROL -> CONTROL;
            case TYPE_USER_DEFINED -> USER_DEFINED;
            case TYPE_UNUSED -> UNUSED;
            case TYPE_BYTE -> BYTE;
            default -> UNDEFINED;
        };
    }
}
