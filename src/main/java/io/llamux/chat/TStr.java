package io.llamux.chat;

import java.util.Arrays;

/**
 * A template string value that remembers, per character, whether it came from a message
 * ("tainted"). Text from a message must never become a special token, so every string the
 * interpreter builds carries this mark through concatenation, slicing, filters and methods;
 * where an operation cannot map characters one to one, the whole result is tainted when any
 * input was (conservative: at worst some template text is tokenized as plain text).
 */
final class TStr implements Comparable<TStr> {
    static final TStr EMPTY = new TStr("", null);

    final String s;
    /** Per-char taint, or null when nothing is tainted. */
    final boolean[] taint;

    TStr(String s, boolean[] taint) {
        this.s = s;
        this.taint = taint;
    }

    static TStr of(String s) {
        return s.isEmpty() ? EMPTY : new TStr(s, null);
    }

    static TStr tainted(String s) {
        if (s.isEmpty()) {
            return EMPTY;
        }
        boolean[] t = new boolean[s.length()];
        Arrays.fill(t, true);
        return new TStr(s, t);
    }

    boolean anyTaint() {
        if (taint == null) {
            return false;
        }
        for (boolean b : taint) {
            if (b) {
                return true;
            }
        }
        return false;
    }

    /** A derived string of different shape: all tainted if any input was. */
    static TStr derived(String s, boolean taint) {
        return taint ? tainted(s) : of(s);
    }

    TStr concat(TStr o) {
        if (o.s.isEmpty()) {
            return this;
        }
        if (s.isEmpty()) {
            return o;
        }
        boolean[] t = null;
        if (taint != null || o.taint != null) {
            t = new boolean[s.length() + o.s.length()];
            if (taint != null) {
                System.arraycopy(taint, 0, t, 0, taint.length);
            }
            if (o.taint != null) {
                System.arraycopy(o.taint, 0, t, s.length(), o.taint.length);
            }
        }
        return new TStr(s + o.s, t);
    }

    TStr sub(int from, int to) {
        if (from == 0 && to == s.length()) {
            return this;
        }
        return new TStr(s.substring(from, to), taint == null ? null : Arrays.copyOfRange(taint, from, to));
    }

    /** Same length, different characters (case changes): taint kept per char. */
    TStr mapSameLength(String t) {
        if (t.length() != s.length()) {
            return derived(t, anyTaint());
        }
        return new TStr(t, taint);
    }

    int length() {
        return s.length();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TStr t && t.s.equals(s);
    }

    @Override
    public int hashCode() {
        return s.hashCode();
    }

    @Override
    public int compareTo(TStr o) {
        return s.compareTo(o.s);
    }

    @Override
    public String toString() {
        return s;
    }
}
