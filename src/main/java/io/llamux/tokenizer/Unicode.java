package io.llamux.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * The code point handling llama.cpp's BPE pre-tokenizers rely on (unicode.cpp): its lenient
 * UTF-8 reading and its letter / number / whitespace classes.
 */
final class Unicode {
    static final int REPLACEMENT = 0xFFFD;

    private Unicode() {
    }

    /**
     * Code points of UTF-8 bytes, read as llama.cpp's {@code unicode_cpts_from_utf8} reads them:
     * the lead byte gives the length and the continuation bytes must be 10xxxxxx, but overlong
     * forms and surrogates pass; a byte that starts no such sequence becomes U+FFFD on its own.
     */
    static int[] codepoints(byte[] b, int offset, int length) {
        IntList out = new IntList();
        int end = offset + length;
        int i = offset;
        while (i < end) {
            int c = b[i] & 0xFF;
            int n = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 0;
            if (n == 0 || i + n > end || !continuations(b, i + 1, n - 1)) {
                out.add(REPLACEMENT);
                i++;
                continue;
            }
            int cp = n == 1 ? c : c & (0x7F >> n);
            for (int k = 1; k < n; k++) {
                cp = cp << 6 | b[i + k] & 0x3F;
            }
            // Past U+10FFFF there is no UTF-8 to write back (llama.cpp would throw).
            out.add(cp > 0x10FFFF ? REPLACEMENT : cp);
            i += n;
        }
        return out.toArray();
    }

    private static boolean continuations(byte[] b, int from, int count) {
        for (int k = 0; k < count; k++) {
            if ((b[from + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        return true;
    }

    /** Appends the UTF-8 bytes of a code point (surrogates included, as llama.cpp writes them). */
    static void appendUtf8(int cp, ByteArrayOutputStream out) {
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }

    /** General category L (Lu, Ll, Lt, Lm, Lo). */
    static boolean isLetter(int cp) {
        return Character.isLetter(cp);
    }

    /** General category N (Nd, Nl, No). */
    static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** General category P (Pc, Pd, Ps, Pe, Pi, Pf, Po). */
    static boolean isPunctuation(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The Unicode White_Space property, llama.cpp's whitespace set (NBSP included, ZWSP not). */
    static boolean isWhitespace(int cp) {
        return cp >= 0x09 && cp <= 0x0D || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || cp >= 0x2000 && cp <= 0x200A || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}
