package io.llamux.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Cuts the text of special tokens out of the input before the tokenizer proper runs
 * (llama.cpp's {@code tokenizer_st_partition}).
 *
 * <p>Special tokens are tried one at a time, longest text first; each one splits every text
 * fragment that contains it. Control and unknown tokens take part only with parseSpecial;
 * user-defined tokens always do. A token with LSTRIP/RSTRIP also eats the ASCII whitespace to
 * its left/right.
 */
final class SpecialTokenSplitter {

    /** A piece of the input: a special token, or a byte range of text still to tokenize. */
    record Fragment(int token, int offset, int length) {
        static Fragment text(int offset, int length) {
            return new Fragment(Vocabulary.NONE, offset, length);
        }

        boolean isText() {
            return token == Vocabulary.NONE;
        }
    }

    private SpecialTokenSplitter() {
    }

    static List<Fragment> split(Vocabulary vocab, byte[] text, boolean parseSpecial) {
        return split(vocab, text, parseSpecial ? ALL : null);
    }

    /** Every byte may be part of a parsed control token. */
    private static final BitSet ALL = new BitSet();

    /**
     * Like {@link #split(Vocabulary, byte[], boolean)}, but a control or unknown token is cut
     * out only where all its bytes are set in {@code parseable} (null: nowhere; {@link #ALL}:
     * everywhere). User-defined tokens match anywhere, as without parse_special.
     */
    static List<Fragment> split(Vocabulary vocab, byte[] text, BitSet parseable) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.length == 0) {
            return fragments;
        }
        fragments.add(Fragment.text(0, text.length));
        for (int special : vocab.specialTokens()) {
            BitSet where = ALL;
            if (vocab.hasAttr(special, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
                if (parseable == null || parseable != ALL && parseable.isEmpty()) {
                    continue;
                }
                where = parseable;
            }
            fragments = splitOn(vocab, special, text, fragments, where);
        }
        return fragments;
    }

    private static List<Fragment> splitOn(Vocabulary vocab, int special, byte[] text, List<Fragment> in,
                                          BitSet parseable) {
        byte[] needle = vocab.textBytes(special);
        boolean lstrip = vocab.hasAttr(special, TokenAttr.LSTRIP);
        boolean rstrip = vocab.hasAttr(special, TokenAttr.RSTRIP);
        boolean everywhere = parseable == ALL;
        List<Fragment> out = null; // stays null while nothing matched, to keep the common case cheap
        for (int f = 0; f < in.size(); f++) {
            Fragment fragment = in.get(f);
            int start = fragment.offset();
            int end = start + fragment.length();
            int match = fragment.isText() ? indexOf(text, start, end, needle, parseable, everywhere) : -1;
            if (match < 0) {
                if (out != null) {
                    out.add(fragment);
                }
                continue;
            }
            if (out == null) {
                out = new ArrayList<>(in.subList(0, f));
            }
            while (match >= 0) {
                int leftEnd = match;
                if (lstrip) {
                    while (leftEnd > start && isSpace(text[leftEnd - 1])) {
                        leftEnd--;
                    }
                }
                if (leftEnd > start) {
                    out.add(Fragment.text(start, leftEnd - start));
                }
                out.add(new Fragment(special, 0, 0));
                start = match + needle.length;
                if (rstrip) {
                    while (start < end && isSpace(text[start])) {
                        start++;
                    }
                }
                match = indexOf(text, start, end, needle, parseable, everywhere);
            }
            if (start < end) {
                out.add(Fragment.text(start, end - start));
            }
        }
        return out == null ? in : out;
    }

    /** {@link #indexOf(byte[], int, int, byte[])} for a match whose bytes are all parseable. */
    private static int indexOf(byte[] hay, int from, int to, byte[] needle, BitSet parseable, boolean everywhere) {
        int at = indexOf(hay, from, to, needle);
        if (everywhere) {
            return at;
        }
        while (at >= 0 && parseable.nextClearBit(at) < at + needle.length) {
            at = indexOf(hay, at + 1, to, needle);
        }
        return at;
    }

    /** The first index in [from, to) where needle starts and ends before {@code to}, or -1. */
    static int indexOf(byte[] hay, int from, int to, byte[] needle) {
        int last = to - needle.length;
        outer:
        for (int i = from; i <= last; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** C's isspace in the "C" locale. */
    private static boolean isSpace(byte b) {
        return b == ' ' || (b >= '\t' && b <= '\r');
    }
}
