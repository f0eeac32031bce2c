package io.llamux.chat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The statement and expression nodes and how they evaluate (jinja2 semantics). */
final class JinjaNodes {
    private JinjaNodes() {}

    /** Variables: a frame per for-iteration and macro call, as jinja2 scopes them. */
    static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                Object v = s.vars.get(name);
                if (v != null || s.vars.containsKey(name)) {
                    return v;
                }
            }
            return JinjaValues.UNDEFINED;
        }
    }

    /** Rendered output: text and, per character, whether it came from a message. */
    static final class Out {
        final StringBuilder sb = new StringBuilder();
        final java.util.BitSet taint = new java.util.BitSet();

        void append(TStr t) {
            int base = sb.length();
            sb.append(t.s);
            if (t.taint != null) {
                for (int i = 0; i < t.taint.length; i++) {
                    if (t.taint[i]) {
                        taint.set(base + i);
                    }
                }
            }
        }

        TStr toTStr() {
            boolean[] t = null;
            if (!taint.isEmpty()) {
                t = new boolean[sb.length()];
                for (int i = taint.nextSetBit(0); i >= 0; i = taint.nextSetBit(i + 1)) {
                    t[i] = true;
                }
            }
            return new TStr(sb.toString(), t);
        }
    }

    interface Expr {
        Object eval(Scope s);
    }

    interface Stmt {
        void exec(Scope s, Out out);
    }

    static final class BreakSignal extends RuntimeException {
        static final BreakSignal INSTANCE = new BreakSignal();

        private BreakSignal() {
            super(null, null, false, false);
        }
    }

    static final class ContinueSignal extends RuntimeException {
        static final ContinueSignal INSTANCE = new ContinueSignal();

        private ContinueSignal() {
            super(null, null, false, false);
        }
    }

    static void execAll(List<Stmt> body, Scope s, Out out) {
        for (Stmt st : body) {
            st.exec(s, out);
        }
    }

    record TextStmt(String text) implements Stmt {
        public void exec(Scope s, Out out) {
            out.append(TStr.of(text));
        }
    }

    record OutputStmt(Expr e) implements Stmt {
        public void exec(Scope s, Out out) {
            out.append(JinjaValues.str(e.eval(s)));
        }
    }

    record DoStmt(Expr e) implements Stmt {
        public void exec(Scope s, Out out) {
            e.eval(s);
        }
    }

    record BreakStmt() implements Stmt {
        public void exec(Scope s, Out out) {
            throw BreakSignal.INSTANCE;
        }
    }

    record ContinueStmt() implements Stmt {
        public void exec(Scope s, Out out) {
            throw ContinueSignal.INSTANCE;
        }
    }

    record IfStmt(List<Expr> conds, List<List<Stmt>> bodies, List<Stmt> elseBody) implements Stmt {
        public void exec(Scope s, Out out) {
            for (int i = 0; i < conds.size(); i++) {
                if (JinjaValues.truthy(conds.get(i).eval(s))) {
                    execAll(bodies.get(i), s, out);
                    return;
                }
            }
            execAll(elseBody, s, out);
        }
    }

    record ForStmt(List<String> targets, Expr iter, Expr filter, List<Stmt> body, List<Stmt> elseBody)
            implements Stmt {
        public void exec(Scope s, Out out) {
            List<Object> items = JinjaValues.iterate(iter.eval(s));
            if (filter != null) {
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    Scope f = new Scope(s);
                    bind(f, item);
                    if (JinjaValues.truthy(filter.eval(f))) {
                        kept.add(item);
                    }
                }
                items = kept;
            }
            int n = items.size();
            for (int i = 0; i < n; i++) {
                Scope f = new Scope(s);
                bind(f, items.get(i));
                Map<String, Object> loop = new LinkedHashMap<>();
                loop.put("index", (long) i + 1);
                loop.put("index0", (long) i);
                loop.put("revindex", (long) (n - i));
                loop.put("revindex0", (long) (n - i - 1));
                loop.put("first", i == 0);
                loop.put("last", i == n - 1);
                loop.put("length", (long) n);
                loop.put("depth", 1L);
                loop.put("depth0", 0L);
                loop.put("previtem", i > 0 ? items.get(i - 1) : JinjaValues.UNDEFINED);
                loop.put("nextitem", i < n - 1 ? items.get(i + 1) : JinjaValues.UNDEFINED);
                final int index = i;
                loop.put("cycle", (JinjaValues.Func) (args, kw) -> args.isEmpty() ? JinjaValues.UNDEFINED
                        : args.get(index % args.size()));
                f.vars.put("loop", loop);
                try {
                    execAll(body, f, out);
                } catch (BreakSignal b) {
                    break;
                } catch (ContinueSignal c) {
                    // next item
                }
            }
            if (n == 0) {
                execAll(elseBody, s, out);
            }
        }

        private void bind(Scope f, Object item) {
            if (targets.size() == 1) {
                f.vars.put(targets.get(0), item);
                return;
            }
            List<Object> parts = JinjaValues.iterate(item);
            if (parts.size() != targets.size()) {
                throw new TemplateException("cannot unpack " + parts.size() + " values into " + targets.size());
            }
            for (int k = 0; k < targets.size(); k++) {
                f.vars.put(targets.get(k), parts.get(k));
            }
        }
    }

    record SetStmt(String target, String attr, Expr value, List<Stmt> body) implements Stmt {
        public void exec(Scope s, Out out) {
            Object v;
            if (body != null) {
                Out o = new Out();
                execAll(body, s, o);
                v = o.toTStr();
            } else {
                v = value.eval(s);
            }
            if (attr == null) {
                s.vars.put(target, v);
                return;
            }
            Object ns = s.get(target);
            if (!(ns instanceof JinjaValues.Namespace n)) {
                throw new TemplateException("cannot assign attribute on non-namespace object '" + target + "'");
            }
            n.put(attr, v);
        }
    }

    record MacroStmt(String name, List<String> params, List<Expr> defaults, List<Stmt> body) implements Stmt {
        public void exec(Scope s, Out out) {
            Scope defining = s;
            JinjaValues.Func f = (args, kwargs) -> {
                Scope m = new Scope(defining);
                List<Object> varargs = new ArrayList<>();
                for (int i = 0; i < args.size(); i++) {
                    if (i < params.size()) {
                        m.vars.put(params.get(i), args.get(i));
                    } else {
                        varargs.add(args.get(i));
                    }
                }
                Map<String, Object> extra = new LinkedHashMap<>();
                for (Map.Entry<String, Object> e : kwargs.entrySet()) {
                    if (params.contains(e.getKey())) {
                        m.vars.put(e.getKey(), e.getValue());
                    } else {
                        extra.put(e.getKey(), e.getValue());
                    }
                }
                for (int i = 0; i < params.size(); i++) {
                    if (!m.vars.containsKey(params.get(i))) {
                        m.vars.put(params.get(i), defaults.get(i) != null ? defaults.get(i).eval(m) : JinjaValues.UNDEFINED);
                    }
                }
                m.vars.put("varargs", varargs);
                m.vars.put("kwargs", extra);
                Out o = new Out();
                execAll(body, m, o);
                return o.toTStr();
            };
            s.vars.put(name, f);
        }
    }

    record FilterBlockStmt(String filter, List<Expr> args, Map<String, Expr> kwargs, List<Stmt> body) implements Stmt {
        public void exec(Scope s, Out out) {
            Out o = new Out();
            execAll(body, s, o);
            out.append(JinjaValues.str(JinjaValues.filter(filter, o.toTStr(), evalArgs(args, s), evalKw(kwargs, s), s)));
        }
    }

    static List<Object> evalArgs(List<Expr> args, Scope s) {
        List<Object> out = new ArrayList<>(args.size());
        for (Expr e : args) {
            out.add(e.eval(s));
        }
        return out;
    }

    static Map<String, Object> evalKw(Map<String, Expr> kwargs, Scope s) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Expr> e : kwargs.entrySet()) {
            out.put(e.getKey(), e.getValue().eval(s));
        }
        return out;
    }

    record NameExpr(String name) implements Expr {
        public Object eval(Scope s) {
            Object v = s.get(name);
            return v == JinjaValues.UNDEFINED ? new JinjaValues.Undefined(name) : v;
        }
    }

    record AttrExpr(Expr obj, String name) implements Expr {
        public Object eval(Scope s) {
            return JinjaValues.getAttr(obj.eval(s), name);
        }
    }

    record ItemExpr(Expr obj, Expr key) implements Expr {
        public Object eval(Scope s) {
            return JinjaValues.getItem(obj.eval(s), key.eval(s));
        }
    }

    record SliceExpr(Expr obj, Expr start, Expr stop, Expr step) implements Expr {
        public Object eval(Scope s) {
            return JinjaValues.slice(obj.eval(s), start == null ? null : start.eval(s),
                    stop == null ? null : stop.eval(s), step == null ? null : step.eval(s));
        }
    }

    record CallExpr(Expr callee, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
        public Object eval(Scope s) {
            List<Object> a = evalArgs(args, s);
            Map<String, Object> kw = evalKw(kwargs, s);
            if (callee instanceof AttrExpr attr) {
                Object o = attr.obj().eval(s);
                return JinjaValues.callMethod(o, attr.name(), a, kw);
            }
            Object f = callee.eval(s);
            if (f instanceof JinjaValues.Func func) {
                return func.call(a, kw);
            }
            throw new TemplateException((callee instanceof NameExpr n ? "'" + n.name() + "'" : "value")
                    + " is not callable");
        }
    }

    record FilterExpr(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
        public Object eval(Scope s) {
            return JinjaValues.filter(name, value.eval(s), evalArgs(args, s), evalKw(kwargs, s), s);
        }
    }

    record TestExpr(Expr value, String name, boolean negate, List<Expr> args) implements Expr {
        public Object eval(Scope s) {
            return negate != JinjaValues.test(name, value.eval(s), evalArgs(args, s), s);
        }
    }

    record BinExpr(String op, Expr l, Expr r) implements Expr {
        public Object eval(Scope s) {
            if (op.equals("neg")) {
                return JinjaValues.negate(l.eval(s));
            }
            return JinjaValues.binary(op, l.eval(s), r.eval(s));
        }
    }

    record CondExpr(Expr cond, Expr then, Expr other) implements Expr {
        public Object eval(Scope s) {
            if (JinjaValues.truthy(cond.eval(s))) {
                return then.eval(s);
            }
            return other == null ? new JinjaValues.Undefined("conditional") : other.eval(s);
        }
    }

    record ListExpr(List<Expr> items) implements Expr {
        public Object eval(Scope s) {
            List<Object> out = new ArrayList<>(items.size());
            for (Expr e : items) {
                out.add(e.eval(s));
            }
            return out;
        }
    }

    record DictExpr(List<Expr> keys, List<Expr> values) implements Expr {
        public Object eval(Scope s) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                out.put(JinjaValues.key(keys.get(i).eval(s)), values.get(i).eval(s));
            }
            return out;
        }
    }
}
