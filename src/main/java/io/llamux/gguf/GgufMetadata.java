package io.llamux.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order.
 *
 * <p>How values are held ({@link #get}):
 * <ul>
 *   <li>every integer type as a {@link Long}: signed types sign-extended, unsigned types
 *       zero-extended, UINT64 kept as its 64-bit pattern (a value above 2^63-1 reads negative;
 *       use {@link Long#toUnsignedString} to print it);</li>
 *   <li>FLOAT32 as a {@link Float} and FLOAT64 as a {@link Double}, so each keeps exactly the
 *       value the file holds (both are Numbers; the typed getters convert);</li>
 *   <li>BOOL as {@link Boolean}, STRING as {@link String}, ARRAY as {@link GgufArray}.</li>
 * </ul>
 *
 * <p>The typed getters return the default when a key is absent. A key that is present with a
 * value of the wrong kind is an {@link IllegalArgumentException} naming the file and key: a
 * model whose {@code block_count} is a string is broken, and quietly using a default would
 * hide that.
 *
 * <p>Hyper-parameters live under the architecture's prefix ({@code llama.block_count},
 * {@code qwen2.block_count}, ...). The {@code arch*} getters read
 * {@code "<general.architecture>.<suffix>"}, so no caller hard-codes {@code llama.}.
 */
public final class GgufMetadata {
    public static final String ARCHITECTURE = "general.architecture";

    private final String source;
    private final Map<String, Object> values;
    private final Map<String, GgufValueType> types;

    GgufMetadata(String source, LinkedHashMap<String, Object> values, LinkedHashMap<String, GgufValueType> types) {
        this.source = source;
        this.values = Collections.unmodifiableMap(values);
        this.types = Collections.unmodifiableMap(types);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The value, or null when the key is absent (see the class comment for its Java type). */
    public Object get(String key) {
        return values.get(key);
    }

    /** The value's GGUF type, or null when the key is absent. */
    public GgufValueType type(String key) {
        return types.get(key);
    }

    /** All keys in file order. */
    public Set<String> keys() {
        return values.keySet();
    }

    public int size() {
        return values.size();
    }

    /** {@code general.architecture}, or null when the file has none. */
    public String architecture() {
        return values.get(ARCHITECTURE) instanceof String s ? s : null;
    }

    public String getString(String key, String def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    public long getLong(String key, long def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Long l) {
            return l;
        }
        throw wrongType(key, "an integer");
    }

    public int getInt(String key, int def) {
        if (!has(key)) {
            return def;
        }
        long v = getLong(key, def);
        if (v != (int) v || types.get(key) == GgufValueType.UINT64 && v < 0) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "' = "
                    + (types.get(key) == GgufValueType.UINT64 ? Long.toUnsignedString(v) : v) + " does not fit an int");
        }
        return (int) v;
    }

    /** A float, also from an integer or FLOAT64 value (rounded to float). */
    public float getFloat(String key, float def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return d.floatValue();
        }
        if (v instanceof Long l) {
            return (float) (types.get(key) == GgufValueType.UINT64 ? GgufArray.unsignedToDouble(l) : l);
        }
        throw wrongType(key, "a number");
    }

    /** A double, also from a FLOAT32 or integer value. */
    public double getDouble(String key, double def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Float f) {
            return f;
        }
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof Long l) {
            return types.get(key) == GgufValueType.UINT64 ? GgufArray.unsignedToDouble(l) : l;
        }
        throw wrongType(key, "a number");
    }

    public boolean getBoolean(String key, boolean def) {
        Object v = values.get(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a boolean");
    }

    /** The array value, or null when the key is absent. */
    public GgufArray getArray(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof GgufArray a) {
            return a;
        }
        throw wrongType(key, "an array");
    }

    /** A copy of a string array, or null when the key is absent. */
    public String[] getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a == null) {
            return null;
        }
        if (a.elementType() != GgufValueType.STRING) {
            throw wrongType(key, "an array of strings");
        }
        return a.toStringArray();
    }

    /** A numeric array as floats, or null when the key is absent. */
    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        if (a == null) {
            return null;
        }
        if (!a.elementType().isInteger() && !a.elementType().isFloat()) {
            throw wrongType(key, "an array of numbers");
        }
        return a.toFloatArray();
    }

    /** An integer array as ints, or null when the key is absent. */
    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        if (a == null) {
            return null;
        }
        if (!a.elementType().isInteger()) {
            throw wrongType(key, "an array of integers");
        }
        try {
            return a.toIntArray();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "': " + e.getMessage());
        }
    }

    /**
     * The full key {@code "<general.architecture>.<suffix>"}, e.g. {@code archKey("block_count")}
     * is {@code "qwen2.block_count"} in a qwen2 file; null when the file names no architecture.
     */
    public String archKey(String suffix) {
        String arch = architecture();
        return arch == null ? null : arch + "." + suffix;
    }

    public boolean archHas(String suffix) {
        String key = archKey(suffix);
        return key != null && has(key);
    }

    public int archInt(String suffix, int def) {
        String key = archKey(suffix);
        return key == null ? def : getInt(key, def);
    }

    public long archLong(String suffix, long def) {
        String key = archKey(suffix);
        return key == null ? def : getLong(key, def);
    }

    public float archFloat(String suffix, float def) {
        String key = archKey(suffix);
        return key == null ? def : getFloat(key, def);
    }

    public String archString(String suffix, String def) {
        String key = archKey(suffix);
        return key == null ? def : getString(key, def);
    }

    public boolean archBoolean(String suffix, boolean def) {
        String key = archKey(suffix);
        return key == null ? def : getBoolean(key, def);
    }

    private IllegalArgumentException wrongType(String key, String expected) {
        return new IllegalArgumentException(source + ": metadata key '" + key + "' is of type " + types.get(key) + ", not " + expected);
    }
}
