package io.llamux.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words BPE merges within ({@code tokenizer.ggml.pre}), with the
 * boundaries llama.cpp's {@code unicode_regex_split} finds.
 *
 * <p>Words are given as lengths in code points. Like llama.cpp, text no pattern matches is not
 * dropped but kept as words of its own.
 */
enum BpePreTokenizer {
    /**
     * GPT-2: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)},
     * which llama.cpp runs as hand-written code that also ends a lone whitespace run as a word.
     */
    GPT2 {
        @Override
        IntList split(int[] cps) {
            return gpt2(cps, whole(cps));
        }
    },
    /**
     * Qwen2: {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}:
     * digits one by one.
     */
    QWEN2 {
        @Override
        IntList split(int[] cps) {
            return regex(QWEN2_COLLAPSED, cps, whole(cps));
        }
    },
    /** StarCoder, Refact and kin: every digit alone ({@code \p{N}}), then GPT-2 on the rest. */
    DIGITS_THEN_GPT2 {
        @Override
        IntList split(int[] cps) {
            return gpt2(cps, regex(SINGLE_NUMBER_COLLAPSED, cps, whole(cps)));
        }
    },
    /**
     * Llama 3: like Qwen2 but digits in groups of up to three ({@code \p{N}{1,3}}). Its
     * vocabularies also take a whole word that is a token as it is (ignore_merges) and add BOS
     * by default. No llama.cpp reference output for a Llama 3 vocabulary is in ../shared, so
     * this rests on the Qwen2 split (the same mechanism, checked) and llama.cpp's code.
     */
    LLAMA3 {
        @Override
        IntList split(int[] cps) {
            return regex(LLAMA3_COLLAPSED, cps, whole(cps));
        }

        @Override
        boolean ignoreMerges() {
            return true;
        }

        @Override
        boolean addsBosByDefault() {
            return true;
        }
    };

    /** Word lengths, in code points, covering all of {@code cps}. */
    abstract IntList split(int[] cps);

    /** Whether a word that is itself a token skips the merges (llama.cpp's ignore_merges). */
    boolean ignoreMerges() {
        return false;
    }

    /** Whether llama.cpp adds BOS for this pre-tokenizer when the file does not say. */
    boolean addsBosByDefault() {
        return false;
    }

    /** The pre-tokenizer for a {@code tokenizer.ggml.pre} name, or null when Llamux has none. */
    static BpePreTokenizer forName(String pre) {
        if (pre == null) {
            return null;
        }
        return switch (pre) {
            case "gpt-2", "phi-2", "mpt", "olmo" -> GPT2;
            case "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez" -> QWEN2;
            case "starcoder", "refact", "smollm", "codeshell" -> DIGITS_THEN_GPT2;
            case "llama3", "llama-v3", "llama-bpe", "falcon3" -> LLAMA3;
            default -> null;
        };
    }

    // llama.cpp runs Unicode-class regexes over a "collapsed" text: ASCII stays, other
    // whitespace becomes \u000B, letters \u00D2, numbers \u00D1, anything else \u00D0; \p{L}
    // and \p{N} become [\u00D2A-Za-z] and [\u00D10-9]. The same collapsed pattern gives the
    // same matches here, since Java's and ECMAScript's \s agree on ASCII.
    private static final char COLLAPSED_LETTER = '\u00D2';
    private static final char COLLAPSED_NUMBER = '\u00D1';
    private static final char COLLAPSED_OTHER = '\u00D0';
    private static final char COLLAPSED_SPACE = '\u000B';
    private static final String L = "\u00D2A-Za-z";
    private static final String N = "\u00D10-9";
    private static final Pattern QWEN2_COLLAPSED = Pattern.compile(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]"
                    + "| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    private static final Pattern LLAMA3_COLLAPSED = Pattern.compile(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]{1,3}"
                    + "| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    private static final Pattern SINGLE_NUMBER_COLLAPSED = Pattern.compile("[" + N + "]");

    private static IntList whole(int[] cps) {
        IntList one = new IntList();
        if (cps.length > 0) {
            one.add(cps.length);
        }
        return one;
    }

    private static char collapse(int cp) {
        if (cp < 0x80) {
            return (char) cp;
        }
        if (Unicode.isWhitespace(cp)) {
            return COLLAPSED_SPACE;
        }
        if (Unicode.isLetter(cp)) {
            return COLLAPSED_LETTER;
        }
        return Unicode.isNumber(cp) ? COLLAPSED_NUMBER : COLLAPSED_OTHER;
    }

    /** Splits each chunk by a pattern: every match is a word, and so is the text between matches. */
    private static IntList regex(Pattern pattern, int[] cps, IntList chunks) {
        char[] collapsed = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            collapsed[i] = collapse(cps[i]);
        }
        Matcher m = pattern.matcher(new String(collapsed)); // bounds are opaque: lookahead stops at the chunk end
        IntList out = new IntList();
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            m.region(start, end);
            int last = start;
            while (m.find()) {
                if (m.start() > last) {
                    out.add(m.start() - last);
                }
                out.add(m.end() - m.start());
                last = m.end();
            }
            if (last < end) {
                out.add(end - last);
            }
            start = end;
        }
        return out;
    }

    /** llama.cpp's GPT-2 split (unicode_regex_split_custom_gpt2) within each chunk. */
    private static IntList gpt2(int[] cps, IntList chunks) {
        IntList out = new IntList();
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            new Gpt2Splitter(cps, start, end, out).run();
            start = end;
        }
        return out;
    }

    private static final class Gpt2Splitter {
        private final int[] cps;
        private final int begin;
        private final int end;
        private final IntList out;
        private int wordStart;

        Gpt2Splitter(int[] cps, int begin, int end, IntList out) {
            this.cps = cps;
            this.begin = begin;
            this.end = end;
            this.out = out;
        }

        private boolean inRange(int pos) {
            return pos >= begin && pos < end;
        }

        private boolean letter(int pos) {
            return inRange(pos) && Unicode.isLetter(cps[pos]);
        }

        private boolean number(int pos) {
            return inRange(pos) && Unicode.isNumber(cps[pos]);
        }

        private boolean space(int pos) {
            return inRange(pos) && Unicode.isWhitespace(cps[pos]);
        }

        /** [^\s\p{L}\p{N}]: any code point that is none of those (but not past the end). */
        private boolean other(int pos) {
            return inRange(pos) && !space(pos) && !letter(pos) && !number(pos);
        }

        private void word(int until) {
            if (until > wordStart) {
                out.add(until - wordStart);
            }
            wordStart = until;
        }

        void run() {
            wordStart = begin;
            int pos = begin;
            while (pos < end) {
                int cp = cps[pos];
                // 's|'t|'re|'ve|'m|'ll|'d (lower case only)
                if (cp == '\'' && pos + 1 < end) {
                    int a = cps[pos + 1];
                    if (a == 's' || a == 't' || a == 'm' || a == 'd') {
                        word(pos += 2);
                        continue;
                    }
                    if (pos + 2 < end) {
                        int b = cps[pos + 2];
                        if (a == 'r' && b == 'e' || a == 'v' && b == 'e' || a == 'l' && b == 'l') {
                            word(pos += 3);
                            continue;
                        }
                    }
                }
                // An optional leading space, then letters, digits or other symbols.
                int look = cp == ' ' ? pos + 1 : pos;
                if (letter(look)) {
                    pos = look;
                    while (letter(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                if (number(look)) {
                    pos = look;
                    while (number(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                if (other(look)) {
                    pos = look;
                    while (other(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                int spaces = 0;
                while (space(pos + spaces)) {
                    spaces++;
                }
                if (spaces > 1 && pos + spaces < end) {
                    // \s+(?!\S): the last space stays for the word after it
                    word(pos += spaces - 1);
                } else if (spaces > 0) {
                    word(pos += spaces);
                } else {
                    word(++pos);
                }
            }
        }
    }
}
