package io.llamux.chat;

import io.llamux.chat.JinjaNodes.Scope;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Values as Python and jinja2 treat them: strings are {@link TStr}, integers Long, floats Double,
 * None null, lists List, dicts Map with String keys; filters, tests, string and dict methods.
 */
final class JinjaValues {
    private JinjaValues() {}

    /** jinja2's default Undefined: prints as nothing, is false, iterates as empty. */
    static final class Undefined {
        final String name;

        Undefined(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return "";
        }
    }

    static final Undefined UNDEFINED = new Undefined(null);

    @FunctionalInterface
    interface Func {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    /** The object namespace() returns: attributes may be assigned with {% set ns.x = ... %}. */
    static final class Namespace extends LinkedHashMap<String, Object> {}

    static String key(Object k) {
        return k instanceof TStr t ? t.s : String.valueOf(k);
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0;
        }
        if (v instanceof TStr s) {
            return !s.s.isEmpty();
        }
        if (v instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty() || v instanceof Namespace;
        }
        return true;
    }

    // ---- str() and repr()

    static TStr str(Object v) {
        if (v instanceof TStr t) {
            return t;
        }
        if (v instanceof Undefined) {
            return TStr.EMPTY;
        }
        boolean taint = tainted(v);
        return TStr.derived(plainStr(v), taint);
    }

    static boolean tainted(Object v) {
        if (v instanceof TStr t) {
            return t.anyTaint();
        }
        if (v instanceof Collection<?> c) {
            for (Object o : c) {
                if (tainted(o)) {
                    return true;
                }
            }
        } else if (v instanceof Map<?, ?> m) {
            for (Object o : m.values()) {
                if (tainted(o)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String plainStr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Double d) {
            return pyFloat(d);
        }
        if (v instanceof TStr t) {
            return t.s;
        }
        if (v instanceof Collection<?> || v instanceof Map<?, ?>) {
            return repr(v);
        }
        if (v instanceof Undefined) {
            return "";
        }
        return String.valueOf(v);
    }

    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return String.valueOf((long) d) + ".0";
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mant = s.substring(0, e);
        if (mant.endsWith(".0")) {
            mant = mant.substring(0, mant.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    static String repr(Object v) {
        if (v instanceof TStr t) {
            String s = t.s;
            char q = s.contains("'") && !s.contains("\"") ? '"' : '\'';
            StringBuilder sb = new StringBuilder().append(q);
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c == q) {
                            sb.append('\\');
                        }
                        sb.append(c);
                    }
                }
            }
            return sb.append(q).toString();
        }
        if (v instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder("[");
            boolean first = true;
            for (Object o : c) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(repr(o));
            }
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(repr(TStr.of(String.valueOf(e.getKey())))).append(": ").append(repr(e.getValue()));
            }
            return sb.append('}').toString();
        }
        return plainStr(v);
    }

    // ---- JSON as transformers' tojson writes it (json.dumps, ensure_ascii=False)

    static String toJson(Object v, Integer indent, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        json(sb, v, indent, 0, sortKeys);
        return sb.toString();
    }

    private static void json(StringBuilder sb, Object v, Integer indent, int depth, boolean sortKeys) {
        if (v == null || v instanceof Undefined) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Double d) {
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : pyFloat(d));
        } else if (v instanceof Long l) {
            sb.append(l);
        } else if (v instanceof TStr t) {
            jsonString(sb, t.s);
        } else if (v instanceof Collection<?> c) {
            if (c.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) {
                    sb.append(indent == null ? ", " : ",");
                }
                first = false;
                newline(sb, indent, depth + 1);
                json(sb, o, indent, depth + 1, sortKeys);
            }
            newline(sb, indent, depth);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) {
                entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    sb.append(indent == null ? ", " : ",");
                }
                first = false;
                newline(sb, indent, depth + 1);
                jsonString(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                json(sb, e.getValue(), indent, depth + 1, sortKeys);
            }
            newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof Func) {
            throw new TemplateException("Object of type function is not JSON serializable");
        } else {
            jsonString(sb, String.valueOf(v));
        }
    }

    private static void newline(StringBuilder sb, Integer indent, int depth) {
        if (indent != null) {
            sb.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    // ---- access

    static List<Object> iterate(Object v) {
        if (v == null) {
            throw new TemplateException("'NoneType' object is not iterable");
        }
        if (v instanceof Undefined) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        if (v instanceof Map<?, ?> m) {
            List<Object> keys = new ArrayList<>();
            for (Object k : m.keySet()) {
                keys.add(TStr.of(String.valueOf(k)));
            }
            return keys;
        }
        if (v instanceof TStr t) {
            List<Object> chars = new ArrayList<>();
            for (int i = 0; i < t.s.length(); ) {
                int n = Character.charCount(t.s.codePointAt(i));
                chars.add(t.sub(i, i + n));
                i += n;
            }
            return chars;
        }
        throw new TemplateException("'" + typeName(v) + "' object is not iterable");
    }

    /** Python's {@code sep.join(str(x) for x in items)}. */
    static TStr join(TStr sep, List<Object> items) {
        TStr out = TStr.EMPTY;
        boolean first = true;
        for (Object o : items) {
            if (!first) {
                out = out.concat(sep);
            }
            first = false;
            out = out.concat(str(o));
        }
        return out;
    }

    /** Python's name for the value's type, as its error messages give it. */
    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean _ -> "bool";
            case Long _ -> "int";
            case Double _ -> "float";
            case TStr _ -> "str";
            case List<?> _ -> "list";
            case Map<?, ?> _ -> "dict";
            case Undefined _ -> "Undefined";
            default -> "function";
        };
    }

    private static final java.util.Set<String> DICT_METHODS = java.util.Set.of("items", "keys", "values", "get");

    static Object getAttr(Object o, String name) {
        if (o instanceof Undefined u) {
            throw new TemplateException("'" + (u.name == null ? "value" : u.name) + "' is undefined");
        }
        if (o instanceof Map<?, ?> m) {
            if (!(o instanceof Namespace) && DICT_METHODS.contains(name)) {
                return (Func) (args, kw) -> callMethod(o, name, args, kw);
            }
            Object v = m.get(name);
            return v != null || m.containsKey(name) ? v : new Undefined(name);
        }
        if (o instanceof TStr || o instanceof List) {
            return (Func) (args, kw) -> callMethod(o, name, args, kw);
        }
        return new Undefined(name);
    }

    static Object getItem(Object o, Object k) {
        if (o instanceof Undefined u) {
            throw new TemplateException("'" + (u.name == null ? "value" : u.name) + "' is undefined");
        }
        if (o instanceof Map<?, ?> m) {
            String key = key(k);
            Object v = m.get(key);
            if (v != null || m.containsKey(key)) {
                return v;
            }
            if (!(o instanceof Namespace) && DICT_METHODS.contains(key)) {
                return getAttr(o, key);
            }
            return new Undefined(key);
        }
        if (o instanceof List<?> l && k instanceof Long i) {
            long idx = i < 0 ? l.size() + i : i;
            return idx >= 0 && idx < l.size() ? l.get((int) idx) : new Undefined(String.valueOf(k));
        }
        if (o instanceof TStr t && k instanceof Long i) {
            long idx = i < 0 ? t.length() + i : i;
            return idx >= 0 && idx < t.length() ? t.sub((int) idx, (int) idx + 1) : new Undefined(String.valueOf(k));
        }
        if (k instanceof TStr t) {
            return getAttr(o, t.s);
        }
        return new Undefined(String.valueOf(k));
    }

    static Object slice(Object o, Object start, Object stop, Object step) {
        long st = step == null ? 1 : toLong(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        int n;
        if (o instanceof List<?> l) {
            n = l.size();
        } else if (o instanceof TStr t) {
            n = t.length();
        } else if (o instanceof Undefined) {
            return o;
        } else {
            throw new TemplateException("'" + typeName(o) + "' object is not subscriptable");
        }
        List<Integer> idx = new ArrayList<>();
        if (st > 0) {
            long a = start == null ? 0 : clamp(toLong(start), n, 0, n);
            long b = stop == null ? n : clamp(toLong(stop), n, 0, n);
            for (long i = a; i < b; i += st) {
                idx.add((int) i);
            }
        } else {
            long a = start == null ? n - 1 : clamp(toLong(start), n, -1, n - 1);
            long b = stop == null ? -1 : clamp(toLong(stop), n, -1, n - 1);
            for (long i = a; i > b; i += st) {
                idx.add((int) i);
            }
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (int i : idx) {
                out.add(l.get(i));
            }
            return out;
        }
        TStr t = (TStr) o;
        if (st == 1) {
            return idx.isEmpty() ? TStr.EMPTY : t.sub(idx.get(0), idx.get(idx.size() - 1) + 1);
        }
        TStr out = TStr.EMPTY;
        for (int i : idx) {
            out = out.concat(t.sub(i, i + 1));
        }
        return out;
    }

    private static long clamp(long v, int n, long lo, long hi) {
        if (v < 0) {
            v += n;
        }
        return Math.max(lo, Math.min(hi, v));
    }

    static long toLong(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return (long) (double) d;
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw new TemplateException("expected an integer, got " + typeName(v));
    }

    // ---- operators

    static boolean eq(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a == null || b == null) {
            return a == b;
        }
        if (isNumber(a) && isNumber(b)) {
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    static double toDouble(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw new TemplateException("expected a number, got " + typeName(v));
    }

    static int compare(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof TStr x && b instanceof TStr y) {
            return x.s.compareTo(y.s);
        }
        throw new TemplateException("'<' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof TStr t) {
            if (!(item instanceof TStr i)) {
                throw new TemplateException("'in <string>' requires string as left operand");
            }
            return t.s.contains(i.s);
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(key(item));
        }
        if (container instanceof Collection<?> c) {
            for (Object o : c) {
                if (eq(o, item)) {
                    return true;
                }
            }
            return false;
        }
        if (container instanceof Undefined) {
            return false;
        }
        throw new TemplateException("argument of type '" + typeName(container) + "' is not iterable");
    }

    static Object negate(Object v) {
        if (v instanceof Long l) {
            return -l;
        }
        return -toDouble(v);
    }

    static Object binary(String op, Object a, Object b) {
        switch (op) {
            case "==":
                return eq(a, b);
            case "!=":
                return !eq(a, b);
            case "<":
                return compare(a, b) < 0;
            case ">":
                return compare(a, b) > 0;
            case "<=":
                return compare(a, b) <= 0;
            case ">=":
                return compare(a, b) >= 0;
            case "in":
                return contains(b, a);
            case "not in":
                return !contains(b, a);
            case "~":
                return str(a).concat(str(b));
            default:
                break;
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            Undefined u = (Undefined) (a instanceof Undefined ? a : b);
            throw new TemplateException("'" + (u.name == null ? "value" : u.name) + "' is undefined");
        }
        if (op.equals("+")) {
            if (a instanceof TStr x && b instanceof TStr y) {
                return x.concat(y);
            }
            if (a instanceof List<?> x && b instanceof List<?> y) {
                List<Object> out = new ArrayList<>(x);
                out.addAll(y);
                return out;
            }
        }
        if (op.equals("*")) {
            if (a instanceof TStr x && b instanceof Long n) {
                TStr out = TStr.EMPTY;
                for (long i = 0; i < n; i++) {
                    out = out.concat(x);
                }
                return out;
            }
            if (a instanceof List<?> x && b instanceof Long n) {
                List<Object> out = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    out.addAll(x);
                }
                return out;
            }
        }
        if (op.equals("%") && a instanceof TStr fmt) {
            return percentFormat(fmt, b);
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw new TemplateException("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                    + typeName(b) + "'");
        }
        boolean ints = !(a instanceof Double) && !(b instanceof Double);
        switch (op) {
            case "+":
                return ints ? (Object) (toLong(a) + toLong(b)) : toDouble(a) + toDouble(b);
            case "-":
                return ints ? (Object) (toLong(a) - toLong(b)) : toDouble(a) - toDouble(b);
            case "*":
                return ints ? (Object) (toLong(a) * toLong(b)) : toDouble(a) * toDouble(b);
            case "/":
                if (toDouble(b) == 0) {
                    throw new TemplateException("division by zero");
                }
                return toDouble(a) / toDouble(b);
            case "//":
                if (toDouble(b) == 0) {
                    throw new TemplateException("integer division or modulo by zero");
                }
                return ints ? (Object) Math.floorDiv(toLong(a), toLong(b)) : Math.floor(toDouble(a) / toDouble(b));
            case "%":
                if (toDouble(b) == 0) {
                    throw new TemplateException("integer division or modulo by zero");
                }
                if (ints) {
                    return Math.floorMod(toLong(a), toLong(b));
                }
                double x = toDouble(a);
                double y = toDouble(b);
                return x - Math.floor(x / y) * y;
            case "**":
                if (ints && toLong(b) >= 0) {
                    long r = 1;
                    for (long i = 0; i < toLong(b); i++) {
                        r *= toLong(a);
                    }
                    return r;
                }
                return Math.pow(toDouble(a), toDouble(b));
            default:
                throw new TemplateException("unknown operator " + op);
        }
    }

    private static TStr percentFormat(TStr fmt, Object args) {
        List<Object> list = args instanceof List<?> l ? new ArrayList<>(l) : List.of(args);
        StringBuilder sb = new StringBuilder();
        int ai = 0;
        String s = fmt.s;
        boolean taint = fmt.anyTaint();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 1 < s.length()) {
                char f = s.charAt(++i);
                if (f == '%') {
                    sb.append('%');
                    continue;
                }
                Object v = ai < list.size() ? list.get(ai++) : TStr.EMPTY;
                taint |= tainted(v);
                sb.append(f == 'r' ? repr(v) : f == 'd' || f == 'i' ? String.valueOf(toLong(v)) : plainStr(v));
            } else {
                sb.append(c);
            }
        }
        return TStr.derived(sb.toString(), taint);
    }

    // ---- methods of str, dict and list

    static Object callMethod(Object o, String name, List<Object> args, Map<String, Object> kw) {
        if (o instanceof TStr t) {
            return stringMethod(t, name, args);
        }
        if (o instanceof Map<?, ?> m) {
            if (!(o instanceof Namespace)) {
                switch (name) {
                    case "items": {
                        List<Object> out = new ArrayList<>();
                        for (Map.Entry<?, ?> e : m.entrySet()) {
                            out.add(new ArrayList<>(List.of(TStr.of(String.valueOf(e.getKey())), nullSafe(e.getValue()))));
                        }
                        return fixNulls(out);
                    }
                    case "keys":
                        return iterate(m);
                    case "values":
                        return new ArrayList<>(m.values());
                    case "get": {
                        String k = key(args.get(0));
                        return m.containsKey(k) ? m.get(k) : args.size() > 1 ? args.get(1) : null;
                    }
                    default:
                        break;
                }
            }
            Object f = m.get(name);
            if (f instanceof Func func) {
                return func.call(args, kw);
            }
            throw new TemplateException("'" + typeName(o) + "' object has no method '" + name + "'");
        }
        if (o instanceof Undefined u) {
            throw new TemplateException("'" + (u.name == null ? "value" : u.name) + "' is undefined");
        }
        throw new TemplateException("'" + typeName(o) + "' object has no method '" + name + "'");
    }

    private static final Object NULL = new Object();

    private static Object nullSafe(Object v) {
        return v == null ? NULL : v;
    }

    private static List<Object> fixNulls(List<Object> pairs) {
        for (Object p : pairs) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) p;
            if (l.get(1) == NULL) {
                l.set(1, null);
            }
        }
        return pairs;
    }

    static boolean isPySpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x1c || c == 0x1d || c == 0x1e
                || c == 0x1f || c == 0x85;
    }

    static TStr strip(TStr t, Object chars, boolean left, boolean right) {
        String s = t.s;
        String set = chars instanceof TStr c ? c.s : null;
        int a = 0;
        int b = s.length();
        if (left) {
            while (a < b && (set == null ? isPySpace(s.charAt(a)) : set.indexOf(s.charAt(a)) >= 0)) {
                a++;
            }
        }
        if (right) {
            while (b > a && (set == null ? isPySpace(s.charAt(b - 1)) : set.indexOf(s.charAt(b - 1)) >= 0)) {
                b--;
            }
        }
        return t.sub(a, b);
    }

    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (cased) {
                sb.append(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            } else {
                sb.append(c);
            }
            prevCased = cased;
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        return Character.toTitleCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static Object stringMethod(TStr t, String name, List<Object> args) {
        Object a0 = args.isEmpty() ? null : args.get(0);
        switch (name) {
            case "strip":
                return strip(t, a0, true, true);
            case "lstrip":
                return strip(t, a0, true, false);
            case "rstrip":
                return strip(t, a0, false, true);
            case "upper":
                return t.mapSameLength(t.s.toUpperCase(Locale.ROOT));
            case "lower":
                return t.mapSameLength(t.s.toLowerCase(Locale.ROOT));
            case "title":
                return t.mapSameLength(title(t.s));
            case "capitalize":
                return t.mapSameLength(capitalize(t.s));
            case "startswith":
            case "endswith": {
                List<Object> options = a0 instanceof List<?> l ? new ArrayList<>(l) : List.of(a0);
                for (Object p : options) {
                    String ps = ((TStr) p).s;
                    if (name.equals("startswith") ? t.s.startsWith(ps) : t.s.endsWith(ps)) {
                        return true;
                    }
                }
                return false;
            }
            case "split": {
                long max = args.size() > 1 ? toLong(args.get(1)) : -1;
                List<Object> out = new ArrayList<>();
                String s = t.s;
                if (a0 == null) {
                    int i = 0;
                    while (i < s.length()) {
                        while (i < s.length() && isPySpace(s.charAt(i))) {
                            i++;
                        }
                        if (i >= s.length()) {
                            break;
                        }
                        if (max >= 0 && out.size() == max) {
                            int e = s.length();
                            while (e > i && isPySpace(s.charAt(e - 1))) {
                                e--;
                            }
                            out.add(t.sub(i, e));
                            break;
                        }
                        int j = i;
                        while (j < s.length() && !isPySpace(s.charAt(j))) {
                            j++;
                        }
                        out.add(t.sub(i, j));
                        i = j;
                    }
                    return out;
                }
                String sep = ((TStr) a0).s;
                if (sep.isEmpty()) {
                    throw new TemplateException("empty separator");
                }
                int i = 0;
                while (true) {
                    int j = s.indexOf(sep, i);
                    if (j < 0 || (max >= 0 && out.size() == max)) {
                        out.add(t.sub(i, s.length()));
                        return out;
                    }
                    out.add(t.sub(i, j));
                    i = j + sep.length();
                }
            }
            case "replace": {
                String from = ((TStr) a0).s;
                TStr to = (TStr) args.get(1);
                long count = args.size() > 2 ? toLong(args.get(2)) : -1;
                TStr out = TStr.EMPTY;
                int i = 0;
                long done = 0;
                if (from.isEmpty()) {
                    return TStr.derived(t.s.replace("", to.s), t.anyTaint() || to.anyTaint());
                }
                while (count < 0 || done < count) {
                    int j = t.s.indexOf(from, i);
                    if (j < 0) {
                        break;
                    }
                    out = out.concat(t.sub(i, j)).concat(to);
                    i = j + from.length();
                    done++;
                }
                return out.concat(t.sub(i, t.length()));
            }
            case "find":
                return (long) t.s.indexOf(((TStr) a0).s);
            case "count": {
                String sub = ((TStr) a0).s;
                long n = 0;
                for (int i = t.s.indexOf(sub); i >= 0 && !sub.isEmpty(); i = t.s.indexOf(sub, i + sub.length())) {
                    n++;
                }
                return n;
            }
            case "join":
                return join(t, iterate(a0));
            case "splitlines": {
                List<Object> out = new ArrayList<>();
                int i = 0;
                String s = t.s;
                while (i < s.length()) {
                    int j = i;
                    while (j < s.length() && s.charAt(j) != '\n' && s.charAt(j) != '\r') {
                        j++;
                    }
                    out.add(t.sub(i, j));
                    if (j < s.length() && s.charAt(j) == '\r' && j + 1 < s.length() && s.charAt(j + 1) == '\n') {
                        j++;
                    }
                    i = j + 1;
                }
                return out;
            }
            case "isdigit":
                return !t.s.isEmpty() && t.s.chars().allMatch(Character::isDigit);
            case "isspace":
                return !t.s.isEmpty() && t.s.chars().allMatch(JinjaValues::isPySpace);
            case "format":
                throw new TemplateException("str.format is not supported");
            default:
                throw new TemplateException("'str' object has no attribute '" + name + "'");
        }
    }

    // ---- filters

    static int length(Object v) {
        if (v instanceof TStr t) {
            return t.s.codePointCount(0, t.s.length());
        }
        if (v instanceof Collection<?> c) {
            return c.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateException("object of type '" + typeName(v) + "' has no len()");
    }

    private static Object attrPath(Object item, String attr) {
        Object v = item;
        for (String part : attr.split("\\.")) {
            v = part.chars().allMatch(Character::isDigit) ? getItem(v, Long.parseLong(part)) : getItem(v, TStr.of(part));
        }
        return v;
    }

    static Object filter(String name, Object v, List<Object> args, Map<String, Object> kw, Scope scope) {
        Object a0 = args.isEmpty() ? null : args.get(0);
        switch (name) {
            case "trim":
                return strip(str(v), a0, true, true);
            case "upper":
                return str(v).mapSameLength(str(v).s.toUpperCase(Locale.ROOT));
            case "lower":
                return str(v).mapSameLength(str(v).s.toLowerCase(Locale.ROOT));
            case "title":
                return str(v).mapSameLength(title(str(v).s));
            case "capitalize":
                return str(v).mapSameLength(capitalize(str(v).s));
            case "length":
            case "count":
                return (long) length(v);
            case "string":
                return str(v);
            case "safe":
                return v;
            case "e":
            case "escape": {
                TStr s = str(v);
                String e = s.s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                        .replace("\"", "&#34;").replace("'", "&#39;");
                return TStr.derived(e, s.anyTaint());
            }
            case "tojson": {
                Object ind = kw.containsKey("indent") ? kw.get("indent") : a0;
                Integer indent = ind == null ? null : (int) toLong(ind);
                boolean sort = truthy(kw.get("sort_keys"));
                return TStr.derived(toJson(v, indent, sort), tainted(v));
            }
            case "default":
            case "d": {
                boolean bool = truthy(kw.containsKey("boolean") ? kw.get("boolean") : args.size() > 1 ? args.get(1) : false);
                Object dflt = kw.containsKey("default_value") ? kw.get("default_value") : a0 == null ? TStr.EMPTY : a0;
                if (v instanceof Undefined || (bool && !truthy(v))) {
                    return dflt;
                }
                return v;
            }
            case "join": {
                TStr sep = kw.containsKey("d") ? str(kw.get("d")) : a0 == null ? TStr.EMPTY : str(a0);
                Object attr = kw.containsKey("attribute") ? kw.get("attribute") : args.size() > 1 ? args.get(1) : null;
                List<Object> items = iterate(v);
                if (attr != null) {
                    List<Object> picked = new ArrayList<>();
                    for (Object o : items) {
                        picked.add(attrPath(o, key(attr)));
                    }
                    items = picked;
                }
                return join(sep, items);
            }
            case "items": {
                if (v instanceof Undefined) {
                    return new ArrayList<>();
                }
                if (!(v instanceof Map)) {
                    throw new TemplateException("items filter needs a mapping");
                }
                return callMethod(v, "items", List.of(), Map.of());
            }
            case "dictsort": {
                @SuppressWarnings("unchecked")
                List<Object> items = (List<Object>) callMethod(v, "items", List.of(), Map.of());
                items.sort((x, y) -> key(((List<?>) x).get(0)).compareToIgnoreCase(key(((List<?>) y).get(0))));
                return items;
            }
            case "list":
                return iterate(v);
            case "first": {
                List<Object> l = iterate(v);
                return l.isEmpty() ? new Undefined("first") : l.get(0);
            }
            case "last": {
                List<Object> l = iterate(v);
                return l.isEmpty() ? new Undefined("last") : l.get(l.size() - 1);
            }
            case "reverse": {
                if (v instanceof TStr t) {
                    return TStr.derived(new StringBuilder(t.s).reverse().toString(), t.anyTaint());
                }
                List<Object> l = iterate(v);
                java.util.Collections.reverse(l);
                return l;
            }
            case "unique": {
                List<Object> out = new ArrayList<>();
                LinkedHashSet<String> seen = new LinkedHashSet<>();
                for (Object o : iterate(v)) {
                    if (seen.add(repr(o))) {
                        out.add(o);
                    }
                }
                return out;
            }
            case "sort": {
                List<Object> l = iterate(v);
                boolean rev = truthy(kw.containsKey("reverse") ? kw.get("reverse") : a0);
                Object attr = kw.get("attribute");
                l.sort((x, y) -> {
                    Object p = attr == null ? x : attrPath(x, key(attr));
                    Object q = attr == null ? y : attrPath(y, key(attr));
                    return p instanceof TStr ps && q instanceof TStr qs ? ps.s.compareToIgnoreCase(qs.s) : compare(p, q);
                });
                if (rev) {
                    java.util.Collections.reverse(l);
                }
                return l;
            }
            case "int": {
                if (v instanceof TStr t) {
                    try {
                        return Long.parseLong(t.s.trim());
                    } catch (NumberFormatException e) {
                        try {
                            return (long) Double.parseDouble(t.s.trim());
                        } catch (NumberFormatException e2) {
                            return a0 == null ? 0L : a0;
                        }
                    }
                }
                return isNumber(v) ? toLong(v) : 0L;
            }
            case "float": {
                if (v instanceof TStr t) {
                    try {
                        return Double.parseDouble(t.s.trim());
                    } catch (NumberFormatException e) {
                        return a0 == null ? 0.0 : a0;
                    }
                }
                return isNumber(v) ? toDouble(v) : 0.0;
            }
            case "abs":
                return v instanceof Long l ? (Object) Math.abs(l) : Math.abs(toDouble(v));
            case "round": {
                long prec = a0 == null ? 0 : toLong(a0);
                double f = Math.pow(10, prec);
                return Math.round(toDouble(v) * f) / f;
            }
            case "sum": {
                Object acc = 0L;
                for (Object o : iterate(v)) {
                    acc = binary("+", acc, kw.containsKey("attribute") ? attrPath(o, key(kw.get("attribute"))) : o);
                }
                return acc;
            }
            case "min":
            case "max": {
                List<Object> l = iterate(v);
                if (l.isEmpty()) {
                    return new Undefined(name);
                }
                Object best = l.get(0);
                for (Object o : l) {
                    int c = compare(o, best);
                    if (name.equals("min") ? c < 0 : c > 0) {
                        best = o;
                    }
                }
                return best;
            }
            case "replace": {
                List<Object> a = new ArrayList<>(args);
                return stringMethod(str(v), "replace", a);
            }
            case "indent": {
                TStr s = str(v);
                long width = kw.containsKey("width") ? toLong(kw.get("width")) : a0 == null ? 4 : toLong(a0);
                boolean first = truthy(kw.containsKey("first") ? kw.get("first") : args.size() > 1 ? args.get(1) : false);
                boolean blank = truthy(kw.containsKey("blank") ? kw.get("blank") : args.size() > 2 ? args.get(2) : false);
                String pad = " ".repeat((int) width);
                String[] lines = s.s.split("\n", -1);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < lines.length; i++) {
                    if (i > 0) {
                        sb.append('\n');
                    }
                    boolean indentThis = (i > 0 || first) && (blank || !lines[i].isBlank());
                    sb.append(indentThis ? pad : "").append(lines[i]);
                }
                return TStr.derived(sb.toString(), s.anyTaint());
            }
            case "wordcount":
                return (long) ((List<?>) stringMethod(str(v), "split", List.of())).size();
            case "map": {
                List<Object> out = new ArrayList<>();
                if (kw.containsKey("attribute")) {
                    String attr = key(kw.get("attribute"));
                    for (Object o : iterate(v)) {
                        Object r = attrPath(o, attr);
                        out.add(r instanceof Undefined && kw.containsKey("default") ? kw.get("default") : r);
                    }
                    return out;
                }
                String f = key(a0);
                List<Object> rest = args.subList(1, args.size());
                for (Object o : iterate(v)) {
                    out.add(filter(f, o, rest, Map.of(), scope));
                }
                return out;
            }
            case "select":
            case "reject":
            case "selectattr":
            case "rejectattr": {
                boolean attrMode = name.endsWith("attr");
                boolean keep = name.startsWith("select");
                String attr = attrMode ? key(a0) : null;
                int ti = attrMode ? 1 : 0;
                String test = args.size() > ti ? key(args.get(ti)) : null;
                List<Object> testArgs = args.size() > ti + 1 ? args.subList(ti + 1, args.size()) : List.of();
                List<Object> out = new ArrayList<>();
                for (Object o : iterate(v)) {
                    Object x = attrMode ? attrPath(o, attr) : o;
                    boolean r = test == null ? truthy(x) : test(test, x, testArgs, scope);
                    if (r == keep) {
                        out.add(o);
                    }
                }
                return out;
            }
            case "batch":
            case "slice":
            case "format":
            case "center":
            case "truncate":
            case "urlencode":
            case "xmlattr":
            case "pprint":
            case "filesizeformat":
            case "striptags":
            case "wordwrap":
            case "groupby":
            case "random":
            case "attr":
            default:
                throw new TemplateException("no filter named '" + name + "'");
        }
    }

    // ---- tests

    static boolean test(String name, Object v, List<Object> args, Scope scope) {
        Object a0 = args.isEmpty() ? null : args.get(0);
        switch (name) {
            case "defined":
                return !(v instanceof Undefined);
            case "undefined":
                return v instanceof Undefined;
            case "none":
                return v == null;
            case "string":
                return v instanceof TStr;
            case "number":
                return v instanceof Long || v instanceof Double;
            case "integer":
                return v instanceof Long;
            case "float":
                return v instanceof Double;
            case "boolean":
                return v instanceof Boolean;
            case "true":
                return Boolean.TRUE.equals(v);
            case "false":
                return Boolean.FALSE.equals(v);
            case "mapping":
                return v instanceof Map;
            case "sequence":
            case "iterable":
                return v instanceof List || v instanceof TStr || v instanceof Map;
            case "callable":
                return v instanceof Func;
            case "equalto":
            case "eq":
            case "==":
            case "sameas":
                return eq(v, a0);
            case "ne":
            case "!=":
                return !eq(v, a0);
            case "lt":
            case "lessthan":
            case "<":
                return compare(v, a0) < 0;
            case "gt":
            case "greaterthan":
            case ">":
                return compare(v, a0) > 0;
            case "le":
            case "<=":
                return compare(v, a0) <= 0;
            case "ge":
            case ">=":
                return compare(v, a0) >= 0;
            case "in":
                return contains(a0, v);
            case "odd":
                return toLong(v) % 2 != 0;
            case "even":
                return toLong(v) % 2 == 0;
            case "divisibleby":
                return toLong(v) % toLong(a0) == 0;
            case "lower":
                return v instanceof TStr t && t.s.equals(t.s.toLowerCase(Locale.ROOT));
            case "upper":
                return v instanceof TStr t && t.s.equals(t.s.toUpperCase(Locale.ROOT));
            default:
                throw new TemplateException("no test named '" + name + "'");
        }
    }

    // ---- strftime for strftime_now

    static String strftime(ZonedDateTime t, String fmt) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++i);
            boolean noPad = false;
            if (f == '-' && i + 1 < fmt.length()) {
                noPad = true;
                f = fmt.charAt(++i);
            }
            String p2 = noPad ? "%d" : "%02d";
            switch (f) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> sb.append(String.format(p2, t.getMonthValue()));
                case 'd' -> sb.append(String.format(p2, t.getDayOfMonth()));
                case 'e' -> sb.append(String.format("%2d", t.getDayOfMonth()));
                case 'H' -> sb.append(String.format(p2, t.getHour()));
                case 'I' -> sb.append(String.format(p2, (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format(p2, t.getMinute()));
                case 'S' -> sb.append(String.format(p2, t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> sb.append(String.format(noPad ? "%d" : "%03d", t.getDayOfYear()));
                case 'b', 'h' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'Z' -> sb.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(f);
            }
        }
        return sb.toString();
    }
}
