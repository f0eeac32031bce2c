package io.llamux.gguf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The strings of a STRING array, kept as their (already validated) UTF-8 bytes back to back
 * and turned into Strings only when asked for. A 50,000-token vocabulary then parses without
 * building 50,000 Strings, which was most of the time spent opening such a file, and takes
 * its byte size in memory rather than the Strings' several times that.
 */
final class Utf8Strings {
    private final byte[] bytes;
    /** String i is bytes[ends[i-1] .. ends[i]) (with ends[-1] = 0). */
    private final int[] ends;

    Utf8Strings(byte[] bytes, int[] ends) {
        this.bytes = bytes;
        this.ends = ends;
    }

    int size() {
        return ends.length;
    }

    String get(int i) {
        int start = i == 0 ? 0 : ends[i - 1];
        return new String(bytes, start, ends[i] - start, StandardCharsets.UTF_8);
    }

    String[] toArray() {
        String[] out = new String[ends.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Utf8Strings s)) {
            return false;
        }
        int n = ends.length == 0 ? 0 : ends[ends.length - 1];
        int m = s.ends.length == 0 ? 0 : s.ends[s.ends.length - 1];
        return Arrays.equals(ends, s.ends) && Arrays.equals(bytes, 0, n, s.bytes, 0, m);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ends);
    }
}
