package io.llamux.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * GPT-2's byte-level alphabet: every byte value is spelled as one printable character, so a
 * BPE vocabulary of strings covers all bytes. Printable Latin-1 bytes ('!'..'~', '¡'..'¬',
 * '®'..'ÿ') stand for themselves; the other 68 take U+0100 onwards in byte order, which is why
 * a space reads 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).
 */
final class ByteLevel {
    private static final char[] CHAR_OF_BYTE = new char[256];
    private static final int[] BYTE_OF_CHAR = new int[512];

    static {
        java.util.Arrays.fill(BYTE_OF_CHAR, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= 0x21 && b <= 0x7E || b >= 0xA1 && b <= 0xAC || b >= 0xAE;
            char c = (char) (printable ? b : next++);
            CHAR_OF_BYTE[b] = c;
            BYTE_OF_CHAR[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The byte-level spelling of bytes. */
    static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = CHAR_OF_BYTE[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * The bytes a byte-level token text stands for. A character outside the alphabet is
     * written the way llama.cpp's {@code llama_decode_text} writes it,
     * {@code [UNK_BYTE_0x<utf8 hex><text>]}.
     */
    static byte[] decode(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        text.codePoints().forEach(cp -> {
            int b = cp < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[cp] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                ByteArrayOutputStream utf8 = new ByteArrayOutputStream();
                Unicode.appendUtf8(cp, utf8);
                StringBuilder s = new StringBuilder("[UNK_BYTE_0x");
                for (byte x : utf8.toByteArray()) {
                    s.append(String.format("%02x", x & 0xFF));
                }
                s.append(text).append(']');
                out.writeBytes(s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
    }
}
