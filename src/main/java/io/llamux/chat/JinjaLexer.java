package io.llamux.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text, {{ expression }} and {% statement %} parts, applying whitespace
 * control exactly as jinja2's lexer does with {@code trim_blocks} and {@code lstrip_blocks} (how
 * transformers configures it): {@code {%-}/{@code -%}} strip all whitespace on that side; a block
 * or comment tag eats one newline after it; spaces and tabs from the start of a line up to a block
 * or comment tag are removed; {@code +} turns the last two off.
 */
final class JinjaLexer {
    enum Kind { NAME, STR, INT, FLOAT, OP }

    record Tok(Kind kind, String text) {
        boolean is(String op) {
            return (kind == Kind.OP || kind == Kind.NAME) && text.equals(op);
        }
    }

    /** A part of the template: text (text != null) or a tag with its expression tokens. */
    record Part(boolean block, String text, List<Tok> toks, int line) {}

    private final String src;
    private final List<Part> parts = new ArrayList<>();

    private JinjaLexer(String src) {
        this.src = src;
    }

    static List<Part> lex(String src) {
        JinjaLexer l = new JinjaLexer(src);
        l.run();
        return l.parts;
    }

    private int line(int pos) {
        int n = 1;
        for (int i = 0; i < pos && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    private void run() {
        int pos = 0;
        int n = src.length();
        boolean stripNext = false; // previous tag ended with -
        while (pos <= n) {
            int idx = findTagStart(pos);
            String text = src.substring(pos, idx < 0 ? n : idx);
            boolean lineStarting = pos == 0 || src.charAt(pos - 1) == '\n';
            if (stripNext) {
                int k = 0;
                while (k < text.length() && Character.isWhitespace(text.charAt(k))) {
                    k++;
                }
                // jinja2's "-%}\s*" consumes the whitespace: the text now starts after it
                lineStarting = k > 0 ? text.charAt(k - 1) == '\n' : lineStarting;
                text = text.substring(k);
                stripNext = false;
            }
            if (idx < 0) {
                addText(text);
                return;
            }
            char kind = src.charAt(idx + 1);
            int p = idx + 2;
            char sign = p < n ? src.charAt(p) : 0;
            if (sign == '-') {
                text = rstrip(text);
                p++;
            } else {
                if (sign == '+') {
                    p++;
                }
                if (sign != '+' && kind != '{') {
                    int lpos = text.lastIndexOf('\n') + 1;
                    if (lpos > 0 || lineStarting) {
                        boolean ws = true;
                        for (int k = lpos; k < text.length(); k++) {
                            char c = text.charAt(k);
                            if (c != ' ' && c != '\t') {
                                ws = false;
                                break;
                            }
                        }
                        if (ws) {
                            text = text.substring(0, lpos);
                        }
                    }
                }
            }
            addText(text);
            int line = line(idx);
            if (kind == '#') {
                int end = src.indexOf("#}", p);
                if (end < 0) {
                    throw new TemplateException("unclosed comment at line " + line);
                }
                boolean minus = end > p && src.charAt(end - 1) == '-';
                boolean plus = end > p && src.charAt(end - 1) == '+';
                pos = end + 2;
                if (minus) {
                    stripNext = true;
                } else if (!plus) {
                    pos = skipNewline(pos);
                }
                continue;
            }
            String close = kind == '{' ? "}}" : "%}";
            List<Tok> toks = new ArrayList<>();
            int[] endInfo = new int[2]; // position after close, sign (0, '-', '+')
            tokenize(p, close, toks, endInfo, line);
            pos = endInfo[0];
            boolean block = kind == '%';
            if (block && toks.size() == 1 && toks.get(0).is("raw")) {
                // {% raw %}...{% endraw %}: text up to the end tag, verbatim
                int end = findEndRaw(pos);
                if (end < 0) {
                    throw new TemplateException("unclosed raw block at line " + line);
                }
                int rawStart = endInfo[1] == '-' ? skipWs(pos) : (endInfo[1] == '+' ? pos : skipNewline(pos));
                String raw = src.substring(rawStart, end);
                if (src.charAt(end + 2) == '-') {
                    raw = rstrip(raw);
                }
                addText(raw);
                List<Tok> endToks = new ArrayList<>();
                int q = end + 2;
                if (src.charAt(q) == '-' || src.charAt(q) == '+') {
                    q++;
                }
                tokenize(q, "%}", endToks, endInfo, line);
                pos = endInfo[0];
                block = true;
                toks = null;
            }
            if (toks != null) {
                parts.add(new Part(block, null, toks, line));
            }
            if (endInfo[1] == '-') {
                stripNext = true;
            } else if (block && endInfo[1] != '+') {
                pos = skipNewline(pos);
            }
        }
    }

    private int findEndRaw(int from) {
        int i = from;
        while ((i = src.indexOf("{%", i)) >= 0) {
            int j = i + 2;
            if (j < src.length() && (src.charAt(j) == '-' || src.charAt(j) == '+')) {
                j++;
            }
            j = skipWs(j);
            if (src.startsWith("endraw", j)) {
                return i;
            }
            i += 2;
        }
        return -1;
    }

    private int skipWs(int p) {
        while (p < src.length() && Character.isWhitespace(src.charAt(p))) {
            p++;
        }
        return p;
    }

    private int skipNewline(int pos) {
        if (pos < src.length() && src.charAt(pos) == '\n') {
            return pos + 1;
        }
        if (pos + 1 < src.length() && src.charAt(pos) == '\r' && src.charAt(pos + 1) == '\n') {
            return pos + 2;
        }
        return pos;
    }

    private void addText(String text) {
        if (!text.isEmpty()) {
            parts.add(new Part(false, text, null, 0));
        }
    }

    private int findTagStart(int from) {
        int i = from;
        while ((i = src.indexOf('{', i)) >= 0) {
            if (i + 1 < src.length()) {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
            i++;
        }
        return -1;
    }

    private static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && Character.isWhitespace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(0, e);
    }

    private static final String[] OPS = {
        "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "(", ")", "[", "]", "{", "}",
        ",", ":", ".", "|", "=", "<", ">"
    };

    private void tokenize(int p, String close, List<Tok> toks, int[] endInfo, int line) {
        int n = src.length();
        while (true) {
            while (p < n && Character.isWhitespace(src.charAt(p))) {
                p++;
            }
            if (p >= n) {
                throw new TemplateException("unclosed tag at line " + line);
            }
            if (src.startsWith(close, p)) {
                endInfo[0] = p + 2;
                endInfo[1] = 0;
                return;
            }
            char c = src.charAt(p);
            if ((c == '-' || c == '+') && src.startsWith(close, p + 1)) {
                endInfo[0] = p + 3;
                endInfo[1] = c;
                return;
            }
            if (Character.isLetter(c) || c == '_') {
                int s = p;
                while (p < n && (Character.isLetterOrDigit(src.charAt(p)) || src.charAt(p) == '_')) {
                    p++;
                }
                toks.add(new Tok(Kind.NAME, src.substring(s, p)));
            } else if (Character.isDigit(c)) {
                int s = p;
                while (p < n && (Character.isDigit(src.charAt(p)) || src.charAt(p) == '_')) {
                    p++;
                }
                boolean flt = false;
                if (p + 1 < n && src.charAt(p) == '.' && Character.isDigit(src.charAt(p + 1))) {
                    flt = true;
                    p++;
                    while (p < n && Character.isDigit(src.charAt(p))) {
                        p++;
                    }
                }
                if (p < n && (src.charAt(p) == 'e' || src.charAt(p) == 'E')) {
                    int q = p + 1;
                    if (q < n && (src.charAt(q) == '+' || src.charAt(q) == '-')) {
                        q++;
                    }
                    if (q < n && Character.isDigit(src.charAt(q))) {
                        flt = true;
                        p = q;
                        while (p < n && Character.isDigit(src.charAt(p))) {
                            p++;
                        }
                    }
                }
                toks.add(new Tok(flt ? Kind.FLOAT : Kind.INT, src.substring(s, p).replace("_", "")));
            } else if (c == '\'' || c == '"') {
                StringBuilder sb = new StringBuilder();
                p++;
                while (true) {
                    if (p >= n) {
                        throw new TemplateException("unclosed string at line " + line);
                    }
                    char d = src.charAt(p);
                    if (d == c) {
                        p++;
                        break;
                    }
                    if (d == '\\' && p + 1 < n) {
                        char e = src.charAt(p + 1);
                        p += 2;
                        switch (e) {
                            case 'n' -> sb.append('\n');
                            case 't' -> sb.append('\t');
                            case 'r' -> sb.append('\r');
                            case '0' -> sb.append('\0');
                            case 'b' -> sb.append('\b');
                            case 'f' -> sb.append('\f');
                            case '\\', '\'', '"' -> sb.append(e);
                            case '\n' -> { }
                            case 'x' -> {
                                sb.append((char) Integer.parseInt(src.substring(p, p + 2), 16));
                                p += 2;
                            }
                            case 'u' -> {
                                sb.append((char) Integer.parseInt(src.substring(p, p + 4), 16));
                                p += 4;
                            }
                            case 'U' -> {
                                sb.appendCodePoint(Integer.parseInt(src.substring(p, p + 8), 16));
                                p += 8;
                            }
                            default -> sb.append('\\').append(e);
                        }
                        continue;
                    }
                    sb.append(d);
                    p++;
                }
                toks.add(new Tok(Kind.STR, sb.toString()));
            } else {
                String op = null;
                for (String o : OPS) {
                    if (src.startsWith(o, p)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw new TemplateException("unexpected character '" + c + "' at line " + line);
                }
                toks.add(new Tok(Kind.OP, op));
                p += op.length();
            }
        }
    }
}
