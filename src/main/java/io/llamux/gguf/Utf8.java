package io.llamux.gguf;

/** Strict UTF-8 checking, as Unicode defines it (no overlong forms, no surrogates, nothing above U+10FFFF). */
final class Utf8 {
    private Utf8() {
    }

    /** The index of the first byte that is not part of a well-formed sequence, or -1 when all are. */
    static int firstInvalid(byte[] b, int len) {
        int i = 0;
        while (i < len) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                if (c == 0xE0) {
                    lo = 0xA0; // below is an overlong form
                } else if (c == 0xED) {
                    hi = 0x9F; // above are the UTF-16 surrogates
                }
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                if (c == 0xF0) {
                    lo = 0x90;
                } else if (c == 0xF4) {
                    hi = 0x8F; // above is past U+10FFFF
                }
            } else {
                return i;
            }
            if (i + need >= len) { // the sequence is cut off by the end of the string
                return i;
            }
            int second = b[i + 1] & 0xFF;
            if (second < lo || second > hi) {
                return i;
            }
            for (int k = 2; k <= need; k++) {
                int cont = b[i + k] & 0xFF;
                if (cont < 0x80 || cont > 0xBF) {
                    return i;
                }
            }
            i += need + 1;
        }
        return -1;
    }
}
