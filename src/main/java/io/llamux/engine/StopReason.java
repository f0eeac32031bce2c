package io.llamux.engine;

/** Why a generation ended; the daemon reports it in DONE (kmod/llamux_uapi.h enum llamux_stop_reason). */
public enum StopReason {
    /** The model produced an end-of-generation token. */
    EOS(0),
    /** The requested number of tokens was generated. */
    LENGTH(1),
    /** The context window is full. */
    CONTEXT(2),
    /** The caller cancelled (a reader went away, Ctrl-C). */
    CANCELLED(3);

    /** The number on the wire. */
    public final int wireCode;

    StopReason(int wireCode) {
        this.wireCode = wireCode;
    }

    /** What a person reads, e.g. on stderr after {@code llamux run}. */
    public String describe() {
        return switch (this) {
            case EOS -> "end of text";
            case LENGTH -> "token limit reached";
            case CONTEXT -> "context window full";
            case CANCELLED -> "cancelled";
        };
    }
}
