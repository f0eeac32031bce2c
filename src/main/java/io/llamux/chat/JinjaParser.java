package io.llamux.chat;

import io.llamux.chat.JinjaLexer.Kind;
import io.llamux.chat.JinjaLexer.Part;
import io.llamux.chat.JinjaLexer.Tok;
import io.llamux.chat.JinjaNodes.*;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parses lexed parts into statements, with jinja2's expression grammar and precedence. */
final class JinjaParser {
    private final List<Part> parts;
    private int pi;
    // current tag tokens
    private List<Tok> toks;
    private int ti;
    private int line;

    private JinjaParser(List<Part> parts) {
        this.parts = parts;
    }

    static List<Stmt> parse(String src) {
        JinjaParser p = new JinjaParser(JinjaLexer.lex(normalize(src)));
        List<Stmt> body = p.body(Set.of());
        if (p.pi < p.parts.size()) {
            throw new TemplateException("unexpected tag at line " + p.parts.get(p.pi).line());
        }
        return body;
    }

    /** jinja2 joins source.splitlines() with "\n": line ends normalized, one final newline dropped. */
    private static String normalize(String src) {
        StringBuilder sb = new StringBuilder(src.length());
        for (int i = 0; i < src.length(); i++) {
            char c = src.charAt(i);
            if (c == '\r') {
                sb.append('\n');
                if (i + 1 < src.length() && src.charAt(i + 1) == '\n') {
                    i++;
                }
            } else if (c == '\u000b' || c == '\u000c' || c == '\u001c' || c == '\u001d' || c == '\u001e'
                    || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                sb.append('\n');
            } else {
                sb.append(c);
            }
        }
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) == '\n') {
            sb.setLength(sb.length() - 1);
        }
        return sb.toString();
    }

    private TemplateException error(String msg) {
        return new TemplateException(msg + " at line " + line);
    }

    /** Statements up to (not consuming) a block tag whose first word is in ends. */
    private List<Stmt> body(Set<String> ends) {
        List<Stmt> out = new ArrayList<>();
        while (pi < parts.size()) {
            Part part = parts.get(pi);
            if (part.text() != null) {
                out.add(new TextStmt(part.text()));
                pi++;
                continue;
            }
            toks = part.toks();
            ti = 0;
            line = part.line();
            if (!part.block()) {
                pi++;
                Expr e = expression();
                expectEnd();
                out.add(new OutputStmt(e));
                continue;
            }
            if (toks.isEmpty()) {
                throw error("empty tag");
            }
            String word = toks.get(0).text();
            if (ends.contains(word)) {
                return out;
            }
            pi++;
            ti = 1;
            out.add(statement(word));
        }
        if (!ends.isEmpty()) {
            throw new TemplateException("missing {% " + String.join(" or ", ends) + " %} at end of template");
        }
        return out;
    }

    /** Consumes the end tag the body stopped at; returns its first word. */
    private String endTag() {
        Part part = parts.get(pi++);
        toks = part.toks();
        line = part.line();
        ti = 1;
        return toks.get(0).text();
    }

    /** The end of a block's opening tag, its statements up to {@code end}, and the closing tag. */
    private List<Stmt> block(String end) {
        expectEnd();
        List<Stmt> body = body(Set.of(end));
        endTag();
        expectEnd();
        return body;
    }

    private Stmt statement(String word) {
        switch (word) {
            case "if": {
                List<Expr> conds = new ArrayList<>();
                List<List<Stmt>> bodies = new ArrayList<>();
                conds.add(expression());
                expectEnd();
                List<Stmt> elseBody = List.of();
                Set<String> ends = Set.of("elif", "else", "endif");
                while (true) {
                    bodies.add(body(ends));
                    String end = endTag();
                    if (end.equals("elif")) {
                        conds.add(expression());
                        expectEnd();
                    } else if (end.equals("else")) {
                        elseBody = block("endif");
                        break;
                    } else {
                        expectEnd();
                        break;
                    }
                }
                return new IfStmt(conds, bodies, elseBody);
            }
            case "for": {
                List<String> targets = new ArrayList<>();
                targets.add(name());
                while (peek(",")) {
                    ti++;
                    targets.add(name());
                }
                expectWord("in");
                Expr iter = orExpr(false);
                Expr filter = null;
                if (peek("if")) {
                    ti++;
                    filter = orExpr(true);
                }
                if (peek("recursive")) {
                    throw error("recursive loops are not supported");
                }
                expectEnd();
                List<Stmt> body = body(Set.of("else", "endfor"));
                List<Stmt> elseBody = List.of();
                if (endTag().equals("else")) {
                    elseBody = block("endfor");
                } else {
                    expectEnd();
                }
                return new ForStmt(targets, iter, filter, body, elseBody);
            }
            case "set": {
                String target = name();
                String attr = null;
                if (peek(".")) {
                    ti++;
                    attr = name();
                }
                if (peek("=")) {
                    ti++;
                    Expr value = tupleOrExpr();
                    expectEnd();
                    return new SetStmt(target, attr, value, null);
                }
                return new SetStmt(target, attr, null, block("endset"));
            }
            case "macro": {
                String name = name();
                expect("(");
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                while (!peek(")")) {
                    params.add(name());
                    if (peek("=")) {
                        ti++;
                        defaults.add(expression());
                    } else {
                        defaults.add(null);
                    }
                    if (peek(",")) {
                        ti++;
                    }
                }
                ti++;
                return new MacroStmt(name, params, defaults, block("endmacro"));
            }
            case "break":
                expectEnd();
                return new BreakStmt();
            case "continue":
                expectEnd();
                return new ContinueStmt();
            case "generation": {
                // transformers' {% generation %} marks assistant text; it renders its body
                return new IfStmt(List.of(s -> Boolean.TRUE), List.of(block("endgeneration")), List.of());
            }
            case "filter": {
                String f = name();
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (peek("(")) {
                    ti++;
                    callArgs(args, kwargs);
                }
                return new FilterBlockStmt(f, args, kwargs, block("endfilter"));
            }
            case "do": {
                Expr e = expression();
                expectEnd();
                return new DoStmt(e);
            }
            default:
                throw error("unknown tag '" + word + "'");
        }
    }

    // ---- tokens

    private boolean atEnd() {
        return ti >= toks.size();
    }

    private boolean peek(String op) {
        return ti < toks.size() && toks.get(ti).is(op) && toks.get(ti).kind() != Kind.STR;
    }

    private boolean peekName(String w) {
        return ti < toks.size() && toks.get(ti).kind() == Kind.NAME && toks.get(ti).text().equals(w);
    }

    private void expect(String op) {
        if (!peek(op)) {
            throw error("expected '" + op + "'" + (atEnd() ? " before end of tag" : " but got '" + toks.get(ti).text() + "'"));
        }
        ti++;
    }

    private void expectWord(String w) {
        if (!peekName(w)) {
            throw error("expected '" + w + "'");
        }
        ti++;
    }

    private void expectEnd() {
        if (!atEnd()) {
            throw error("unexpected '" + toks.get(ti).text() + "'");
        }
    }

    private String name() {
        if (atEnd() || toks.get(ti).kind() != Kind.NAME) {
            throw error("expected a name");
        }
        return toks.get(ti++).text();
    }

    // ---- expressions (jinja2 precedence)

    private Expr tupleOrExpr() {
        Expr first = expression();
        if (!peek(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>();
        items.add(first);
        while (peek(",")) {
            ti++;
            if (atEnd()) {
                break;
            }
            items.add(expression());
        }
        return new ListExpr(items);
    }

    Expr expression() {
        Expr e = orExpr(true);
        if (peekName("if")) {
            ti++;
            Expr cond = orExpr(true);
            Expr other = null;
            if (peekName("else")) {
                ti++;
                other = expression();
            }
            return new CondExpr(cond, e, other);
        }
        return e;
    }

    private Expr orExpr(boolean allowCond) {
        Expr l = andExpr();
        while (peekName("or")) {
            ti++;
            Expr r = andExpr();
            Expr a = l;
            l = s -> {
                Object v = a.eval(s);
                return JinjaValues.truthy(v) ? v : r.eval(s);
            };
        }
        return l;
    }

    private Expr andExpr() {
        Expr l = notExpr();
        while (peekName("and")) {
            ti++;
            Expr r = notExpr();
            Expr a = l;
            l = s -> {
                Object v = a.eval(s);
                return !JinjaValues.truthy(v) ? v : r.eval(s);
            };
        }
        return l;
    }

    private Expr notExpr() {
        if (peekName("not")) {
            ti++;
            Expr e = notExpr();
            return s -> !JinjaValues.truthy(e.eval(s));
        }
        return compare();
    }

    private Expr compare() {
        Expr l = math1();
        while (true) {
            String op;
            if (peek("==") || peek("!=") || peek("<") || peek(">") || peek("<=") || peek(">=")) {
                op = toks.get(ti++).text();
            } else if (peekName("in")) {
                ti++;
                op = "in";
            } else if (peekName("not") && ti + 1 < toks.size() && toks.get(ti + 1).kind() == Kind.NAME
                    && toks.get(ti + 1).text().equals("in")) {
                ti += 2;
                op = "not in";
            } else {
                return l;
            }
            Expr r = math1();
            l = new BinExpr(op, l, r);
        }
    }

    private Expr math1() {
        Expr l = concat();
        while (peek("+") || peek("-")) {
            String op = toks.get(ti++).text();
            l = new BinExpr(op, l, concat());
        }
        return l;
    }

    private Expr concat() {
        Expr l = math2();
        while (peek("~")) {
            ti++;
            l = new BinExpr("~", l, math2());
        }
        return l;
    }

    private Expr math2() {
        Expr l = pow();
        while (peek("*") || peek("/") || peek("//") || peek("%")) {
            String op = toks.get(ti++).text();
            l = new BinExpr(op, l, pow());
        }
        return l;
    }

    private Expr pow() {
        Expr l = unary(true);
        while (peek("**")) {
            ti++;
            l = new BinExpr("**", l, unary(true));
        }
        return l;
    }

    private Expr unary(boolean withFilter) {
        Expr node;
        if (peek("-")) {
            ti++;
            Expr e = unary(false);
            node = new BinExpr("neg", e, e);
        } else if (peek("+")) {
            ti++;
            node = unary(false);
        } else {
            node = postfix(primary());
        }
        if (withFilter) {
            node = filterExpr(node);
        }
        return node;
    }

    private Expr primary() {
        if (atEnd()) {
            throw error("expected an expression");
        }
        Tok t = toks.get(ti++);
        switch (t.kind()) {
            case STR: {
                StringBuilder sb = new StringBuilder(t.text());
                while (!atEnd() && toks.get(ti).kind() == Kind.STR) {
                    sb.append(toks.get(ti++).text());
                }
                Object v = TStr.of(sb.toString());
                return s -> v;
            }
            case INT: {
                Object v = Long.parseLong(t.text());
                return s -> v;
            }
            case FLOAT: {
                Object v = Double.parseDouble(t.text());
                return s -> v;
            }
            case NAME:
                switch (t.text()) {
                    case "true", "True":
                        return s -> Boolean.TRUE;
                    case "false", "False":
                        return s -> Boolean.FALSE;
                    case "none", "None":
                        return s -> null;
                    default:
                        return new NameExpr(t.text());
                }
            default:
                break;
        }
        switch (t.text()) {
            case "(": {
                if (peek(")")) {
                    ti++;
                    return new ListExpr(List.of());
                }
                Expr e = expression();
                if (peek(",")) {
                    List<Expr> items = new ArrayList<>();
                    items.add(e);
                    while (peek(",")) {
                        ti++;
                        if (peek(")")) {
                            break;
                        }
                        items.add(expression());
                    }
                    e = new ListExpr(items);
                }
                expect(")");
                return e;
            }
            case "[": {
                List<Expr> items = new ArrayList<>();
                while (!peek("]")) {
                    items.add(expression());
                    if (!peek("]")) {
                        expect(",");
                    }
                }
                ti++;
                return new ListExpr(items);
            }
            case "{": {
                List<Expr> keys = new ArrayList<>();
                List<Expr> values = new ArrayList<>();
                while (!peek("}")) {
                    keys.add(expression());
                    expect(":");
                    values.add(expression());
                    if (!peek("}")) {
                        expect(",");
                    }
                }
                ti++;
                return new DictExpr(keys, values);
            }
            default:
                throw error("unexpected '" + t.text() + "'");
        }
    }

    private Expr postfix(Expr node) {
        while (true) {
            if (peek(".")) {
                ti++;
                if (!atEnd() && toks.get(ti).kind() == Kind.INT) {
                    node = new ItemExpr(node, literal(Long.parseLong(toks.get(ti++).text())));
                } else {
                    node = new AttrExpr(node, name());
                }
            } else if (peek("[")) {
                ti++;
                Expr[] sl = new Expr[3];
                boolean slice = false;
                int k = 0;
                while (!peek("]")) {
                    if (peek(":")) {
                        ti++;
                        slice = true;
                        k++;
                        if (k > 2) {
                            throw error("bad slice");
                        }
                    } else {
                        sl[k] = expression();
                    }
                }
                ti++;
                node = slice ? new SliceExpr(node, sl[0], sl[1], sl[2]) : new ItemExpr(node, sl[0]);
            } else if (peek("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    /** At "(": a call of {@code callee} with the arguments up to the closing ")". */
    private Expr call(Expr callee) {
        ti++;
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        callArgs(args, kwargs);
        return new CallExpr(callee, args, kwargs);
    }

    private static Expr literal(Object v) {
        return s -> v;
    }

    /** After "(": arguments up to and including ")". */
    private void callArgs(List<Expr> args, Map<String, Expr> kwargs) {
        while (!peek(")")) {
            if (ti + 1 < toks.size() && toks.get(ti).kind() == Kind.NAME && toks.get(ti + 1).is("=")
                    && toks.get(ti + 1).kind() == Kind.OP) {
                String k = toks.get(ti).text();
                ti += 2;
                kwargs.put(k, expression());
            } else {
                args.add(expression());
            }
            if (!peek(")")) {
                expect(",");
            }
        }
        ti++;
    }

    private Expr filterExpr(Expr node) {
        while (true) {
            if (peek("|")) {
                ti++;
                String f = name();
                while (peek(".")) { // dotted filter names: not used by templates, keep the last part
                    ti++;
                    f = name();
                }
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (peek("(")) {
                    ti++;
                    callArgs(args, kwargs);
                }
                node = new FilterExpr(node, f, args, kwargs);
            } else if (peekName("is")) {
                ti++;
                boolean negate = false;
                if (peekName("not")) {
                    ti++;
                    negate = true;
                }
                String test = name();
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (peek("(")) {
                    ti++;
                    callArgs(args, kwargs);
                } else if (!atEnd() && startsTestArg(toks.get(ti))) {
                    args.add(postfix(primary()));
                }
                node = new TestExpr(node, test, negate, args);
            } else if (peek("(")) {
                node = call(node);
            } else {
                return node;
            }
        }
    }

    private static final Set<String> NOT_ARG = Set.of("and", "or", "else", "if", "in", "not", "is", "recursive");

    private static boolean startsTestArg(Tok t) {
        return switch (t.kind()) {
            case STR, INT, FLOAT -> true;
            case NAME -> !NOT_ARG.contains(t.text());
            case OP -> t.text().equals("[") || t.text().equals("{");
        };
    }
}
