package io.llamux.gguf;

import java.io.IOException;

/**
 * Everything wrong with a GGUF file: its name, the byte offset where reading went wrong,
 * and what was wrong. The message reads {@code "<file>: at byte <offset>: <what>"}; when
 * the problem has no single byte position (a tensor the model needs is missing), the
 * offset is -1 and the message is {@code "<file>: <what>"}.
 */
public final class GgufException extends IOException {
    private final String source;
    private final long offset;
    private final String what;

    public GgufException(String source, long offset, String what) {
        super(offset >= 0 ? source + ": at byte " + offset + ": " + what : source + ": " + what);
        this.source = source;
        this.offset = offset;
        this.what = what;
    }

    /** The file path or name the bytes came from. */
    public String source() {
        return source;
    }

    /** The absolute byte offset of the problem in the file, or -1 when it has none. */
    public long offset() {
        return offset;
    }

    /** What was wrong, without the file and offset. */
    public String what() {
        return what;
    }
}
