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
     * Falcon: runs of punctuation and {@code $+<=>^~|`} first ({@code [\p{P}\$\+<=>\^~\|`]+}),
     * then GPT-2 on each piece, then digit runs cut into threes from the left
     * ({@code [0-9][0-9][0-9]}).
     */
    FALCON {
        @Override
        IntList split(int[] cps) {
            return wide(THREE_DIGITS, cps, gpt2(cps, regex(FALCON_PUNCTUATION_COLLAPSED, cps, whole(cps))));
        }
    },
    /**
     * DeepSeek LLM: each line break alone, then (each applied to every piece so far) runs of
     * cased letters, runs of ASCII and full-width punctuation, trailing whitespace, runs of CJK
     * and Hangul, and runs of numbers ({@code \p{N}+}), each optionally after one space.
     */
    DEEPSEEK_LLM {
        @Override
        IntList split(int[] cps) {
            IntList chunks = wide(LINE_BREAK, cps, whole(cps));
            chunks = wide(DEEPSEEK_LLM_LETTERS, cps, chunks);
            chunks = wide(DEEPSEEK_LLM_PUNCTUATION, cps, chunks);
            chunks = wide(TRAILING_SPACE, cps, chunks);
            chunks = wide(CJK, cps, chunks);
            return regex(NUMBERS_COLLAPSED, cps, chunks);
        }
    },
    /**
     * DeepSeek Coder: each line break alone, then {@code \s?\p{L}+}, {@code \s?\p{P}+}, runs
     * of CJK and Hangul, and every digit alone ({@code \p{N}}).
     */
    DEEPSEEK_CODER {
        @Override
        IntList split(int[] cps) {
            IntList chunks = wide(LINE_BREAK, cps, whole(cps));
            chunks = regex(SPACE_LETTERS_COLLAPSED, cps, chunks);
            chunks = regex(SPACE_PUNCTUATION_COLLAPSED, cps, chunks);
            chunks = wide(CJK, cps, chunks);
            return regex(SINGLE_NUMBER_COLLAPSED, cps, chunks);
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
            case "falcon" -> FALCON;
            case "deepseek-llm" -> DEEPSEEK_LLM;
            case "deepseek-coder" -> DEEPSEEK_CODER;
            default -> null;
        };
    }

    // llama.cpp runs Unicode-class regexes over a "collapsed" text: ASCII stays, other
    // whitespace becomes \u000B, letters \u00D2, numbers \u00D1, punctuation \u00D3, anything
    // else \u00D0; \p{L}, \p{N} and \p{P} become [\u00D2A-Za-z], [\u00D10-9] and \u00D3 plus
    // ASCII punctuation. The same collapsed pattern gives the same matches here, since Java's
    // and ECMAScript's \s agree on ASCII.
    private static final char COLLAPSED_LETTER = '\u00D2';
    private static final char COLLAPSED_NUMBER = '\u00D1';
    private static final char COLLAPSED_PUNCTUATION = '\u00D3';
    private static final char COLLAPSED_OTHER = '\u00D0';
    private static final char COLLAPSED_SPACE = '\u000B';
    private static final String L = "\u00D2A-Za-z";
    private static final String N = "\u00D10-9";
    /** ASCII's \p{P}: !"#%&'()*,-./:;?@[\]_{} (not the symbols $+<=>^`|~). */
    private static final String P = "\u00D3!-#%-*,-/:;?@\\[-\\]_{}";
    private static final Pattern FALCON_PUNCTUATION_COLLAPSED = Pattern.compile("[" + P + "$+<=>^~|`]+");
    private static final Pattern NUMBERS_COLLAPSED = Pattern.compile("[" + N + "]+");
    private static final Pattern SPACE_LETTERS_COLLAPSED = Pattern.compile("\\s?[" + L + "]+");
    private static final Pattern SPACE_PUNCTUATION_COLLAPSED = Pattern.compile("\\s?[" + P + "]+");

    // Patterns without Unicode classes, which llama.cpp runs with std::wregex on the code
    // points, non-ASCII whitespace turned into \u000B first.
    private static final Pattern THREE_DIGITS = Pattern.compile("[0-9][0-9][0-9]");
    private static final Pattern LINE_BREAK = Pattern.compile("[\r\n]");
    /** $ at the end of the piece only (ECMAScript's $, not Java's, which also matches before a final \n). */
    private static final Pattern TRAILING_SPACE = Pattern.compile("\\s+\\z");
    /** CJK ideographs U+4E00..U+9FA5, U+0800..U+4E00 and Hangul U+AC00..U+D7FF. */
    private static final Pattern CJK = Pattern.compile("[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+");
    /** The cased letters (Lu, Ll, Lt) as DeepSeek's tokenizer lists them. */
    private static final Pattern DEEPSEEK_LLM_LETTERS = Pattern.compile("\\s?[" + "\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
            + "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
            + "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
            + "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
            + "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
            + "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
            + "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}"
            + "\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}"
            + "\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
            + "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
            + "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
            + "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}"
            + "\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}"
            + "\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}"
            + "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
            + "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}" + "]+");
    /** ASCII punctuation and symbols (and letters), full-width ones, curly quotes, U+3000..U+3002. */
    private static final Pattern DEEPSEEK_LLM_PUNCTUATION = Pattern.compile(
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+");
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
        if (Unicode.isNumber(cp)) {
            return COLLAPSED_NUMBER;
        }
        return Unicode.isPunctuation(cp) ? COLLAPSED_PUNCTUATION : COLLAPSED_OTHER;
    }

    /**
     * Like {@link #regex} for a pattern on the code points themselves (llama.cpp's std::wregex
     * path): non-ASCII whitespace is \u000B, as llama.cpp writes it so that \s sees it; a
     * surrogate code point (which lenient UTF-8 reading lets through) is U+FFFF, which no
     * pattern here matches, so it cannot pair up with its neighbour in a Java string.
     */
    private static IntList wide(Pattern pattern, int[] cps, IntList chunks) {
        StringBuilder sb = new StringBuilder(cps.length + 8);
        int[] charAt = new int[cps.length + 1]; // code point index -> char index
        for (int i = 0; i < cps.length; i++) {
            charAt[i] = sb.length();
            int cp = cps[i];
            if (cp > 0x7F && Unicode.isWhitespace(cp)) {
                cp = COLLAPSED_SPACE;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFF;
            }
            sb.appendCodePoint(cp);
        }
        charAt[cps.length] = sb.length();
        String text = sb.toString();
        int[] cpAt = new int[text.length() + 1]; // char index -> code point index
        for (int i = 0; i < cps.length; i++) {
            for (int ch = charAt[i]; ch < charAt[i + 1]; ch++) {
                cpAt[ch] = i;
            }
        }
        cpAt[text.length()] = cps.length;
        Matcher m = pattern.matcher(text);
        IntList out = new IntList();
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            m.region(charAt[start], charAt[end]);
            int last = start;
            while (m.find()) {
                int ms = cpAt[m.start()];
                int me = cpAt[m.end()];
                if (ms > last) {
                    out.add(ms - last);
                }
                out.add(me - ms);
                last = me;
            }
            if (last < end) {
                out.add(end - last);
            }
            start = end;
        }
        return out;
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
