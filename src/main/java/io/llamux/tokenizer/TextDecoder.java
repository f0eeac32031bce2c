package io.llamux.tokenizer;

import java.util.Arrays;

/**
 * Streams generated tokens as text: pieces go in one token at a time, and only whole UTF-8
 * characters come out, so a character spread over several byte tokens (an emoji as
 * {@code <0xF0><0x9F><0x99><0x82>}) is printed once it is complete.
 *
 * <p>Bytes that can never become a valid character come out at once as U+FFFD, one per
 * maximal ill-formed subsequence (Unicode's "best practice", which Python's
 * {@code errors="replace"} follows), so one bad byte does not hold back the text behind it.
 * Pieces are as {@link Tokenizer#piece(int)}: leading spaces are kept, control tokens print
 * nothing.
 *
 * <p>Not thread-safe: one decoder per generation.
 */
public final class TextDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private byte[] pending = new byte[8];
    private int pendingLength;

    /** A decoder for tokens of {@code tokenizer} (null when only {@link #pushBytes} is used). */
    public TextDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Bytes as text, with the same U+FFFD rule as streaming them. */
    public static String decode(byte[] bytes) {
        TextDecoder d = new TextDecoder(null);
        return d.pushBytes(bytes) + d.flush();
    }

    /** Adds a token; returns the text completed by it ("" while a character is incomplete). */
    public String push(int token) {
        return pushBytes(tokenizer.piece(token));
    }

    /** Adds raw bytes; returns the text they complete. */
    public String pushBytes(byte[] bytes) {
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        return drain(false);
    }

    /** Ends the stream: returns what is left, an unfinished character as U+FFFD. */
    public String flush() {
        return drain(true);
    }

    /** Whether bytes are waiting for the rest of their character. */
    public boolean hasPending() {
        return pendingLength > 0;
    }

    private String drain(boolean endOfInput) {
        StringBuilder out = new StringBuilder(pendingLength);
        int i = 0;
        while (i < pendingLength) {
            int valid = Utf8Scan.validPrefix(pending, i, pendingLength);
            int need = Utf8Scan.sequenceLength(pending[i]);
            if (need > 0 && valid == need) {
                out.appendCodePoint(Utf8Scan.decode(pending, i, need));
                i += need;
            } else if (need > 0 && i + valid == pendingLength && !endOfInput) {
                break; // a valid start whose remaining bytes have not arrived yet
            } else {
                out.append(REPLACEMENT);
                i += Math.max(valid, 1);
            }
        }
        System.arraycopy(pending, i, pending, 0, pendingLength - i);
        pendingLength -= i;
        return out.toString();
    }

    /** Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
    static final class Utf8Scan {
        private Utf8Scan() {
        }

        /** The length of the sequence a lead byte starts, or 0 when it cannot start one. */
        static int sequenceLength(byte lead) {
            int c = lead & 0xFF;
            if (c < 0x80) {
                return 1;
            }
            if (c >= 0xC2 && c <= 0xDF) {
                return 2;
            }
            if (c >= 0xE0 && c <= 0xEF) {
                return 3;
            }
            if (c >= 0xF0 && c <= 0xF4) {
                return 4;
            }
            return 0;
        }

        /**
         * How many bytes from {@code i} (before {@code end}) form a valid sequence or a valid
         * beginning of one: the whole length when complete, fewer when cut short or broken.
         */
        static int validPrefix(byte[] b, int i, int end) {
            int need = sequenceLength(b[i]);
            if (need <= 1) {
                return need;
            }
            int lead = b[i] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            if (lead == 0xE0) {
                lo = 0xA0; // below: overlong
            } else if (lead == 0xED) {
                hi = 0x9F; // above: surrogates
            } else if (lead == 0xF0) {
                lo = 0x90; // below: overlong
            } else if (lead == 0xF4) {
                hi = 0x8F; // above: past U+10FFFF
            }
            int k = 1;
            while (k < need && i + k < end) {
                int c = b[i + k] & 0xFF;
                boolean ok = k == 1 ? c >= lo && c <= hi : c >= 0x80 && c <= 0xBF;
                if (!ok) {
                    break;
                }
                k++;
            }
            return k;
        }

        static int decode(byte[] b, int i, int length) {
            int lead = b[i] & 0xFF;
            if (length == 1) {
                return lead;
            }
            int cp = lead & (0x7F >> length);
            for (int k = 1; k < length; k++) {
                cp = cp << 6 | b[i + k] & 0x3F;
            }
            return cp;
        }
    }
}
