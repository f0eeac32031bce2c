package io.llamux.gguf;

import java.util.Arrays;

/**
 * A GGUF metadata array: one element type and its values, held in the narrowest Java array
 * that fits (so a 50,000-entry token-type array costs 200 KB, not 50,000 boxed Longs).
 *
 * <p>Element access follows {@link GgufMetadata}'s value rules: every integer type reads as a
 * long (unsigned types zero-extended, UINT64 kept as its bit pattern), FLOAT32 and FLOAT64 as
 * double, BOOL as boolean, STRING as String, ARRAY as a nested GgufArray.
 */
public final class GgufArray {
    private final GgufValueType elementType;
    /** byte[] (UINT8, INT8, BOOL), short[], int[], long[], float[], double[], String[] or Utf8Strings (STRING), or GgufArray[]. */
    private final Object values;
    private final int size;

    GgufArray(GgufValueType elementType, Object values, int size) {
        this.elementType = elementType;
        this.values = values;
        this.size = size;
    }

    public GgufValueType elementType() {
        return elementType;
    }

    public int size() {
        return size;
    }

    /** An integer element as a long; unsigned types are zero-extended. */
    public long getLong(int i) {
        Object v = values;
        return switch (elementType) {
            case UINT8 -> ((byte[]) v)[i] & 0xFFL;
            case INT8 -> ((byte[]) v)[i];
            case UINT16 -> ((short[]) v)[i] & 0xFFFFL;
            case INT16 -> ((short[]) v)[i];
            case UINT32 -> ((int[]) v)[i] & 0xFFFF_FFFFL;
            case INT32 -> ((int[]) v)[i];
            case UINT64, INT64 -> ((long[]) v)[i];
            default -> throw wrongType("an integer");
        };
    }

    /** A numeric element (integer or float) as a double. */
    public double getDouble(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case UINT64 -> unsignedToDouble(((long[]) values)[i]);
            default -> getLong(i);
        };
    }

    public boolean getBoolean(int i) {
        if (elementType != GgufValueType.BOOL) {
            throw wrongType("a boolean");
        }
        return ((byte[]) values)[i] != 0;
    }

    public String getString(int i) {
        if (elementType != GgufValueType.STRING) {
            throw wrongType("a string");
        }
        return values instanceof Utf8Strings u ? u.get(i) : ((String[]) values)[i];
    }

    public GgufArray getArray(int i) {
        if (elementType != GgufValueType.ARRAY) {
            throw wrongType("an array");
        }
        return ((GgufArray[]) values)[i];
    }

    /** An element boxed as {@link GgufMetadata#get} would box a scalar of the element type. */
    public Object get(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case BOOL -> getBoolean(i);
            case STRING -> getString(i);
            case ARRAY -> getArray(i);
            default -> getLong(i);
        };
    }

    /** A copy of a STRING array's elements. */
    public String[] toStringArray() {
        if (elementType != GgufValueType.STRING) {
            throw wrongType("a string");
        }
        return values instanceof Utf8Strings u ? u.toArray() : ((String[]) values).clone();
    }

    /** The elements of a numeric array as floats (integers converted, doubles rounded). */
    public float[] toFloatArray() {
        if (elementType == GgufValueType.FLOAT32) {
            return ((float[]) values).clone();
        }
        if (!elementType.isInteger() && !elementType.isFloat()) {
            throw wrongType("a number");
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) getDouble(i);
        }
        return out;
    }

    /**
     * The elements of an integer array as ints.
     *
     * @throws IllegalArgumentException when an element does not fit an int
     */
    public int[] toIntArray() {
        if (elementType == GgufValueType.INT32) {
            return ((int[]) values).clone();
        }
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            long v = getLong(i);
            if (v != (int) v) {
                throw new IllegalArgumentException("array element " + i + " = " + Long.toUnsignedString(v) + " does not fit an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** The elements of an integer array as longs. */
    public long[] toLongArray() {
        long[] out = new long[size];
        for (int i = 0; i < size; i++) {
            out[i] = getLong(i);
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(elementType).append('[').append(size).append("]{");
        int shown = Math.min(size, 8);
        for (int i = 0; i < shown; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            Object v = get(i);
            sb.append(v instanceof String s ? '"' + s + '"' : elementType == GgufValueType.UINT64 ? Long.toUnsignedString((Long) v) : v);
        }
        return sb.append(size > shown ? ", ...}" : "}").toString();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GgufArray a) || a.elementType != elementType || a.size != size) {
            return false;
        }
        if (elementType == GgufValueType.STRING) {
            return Arrays.equals(toStringArray(), a.toStringArray());
        }
        return Arrays.deepEquals(new Object[] {values}, new Object[] {a.values});
    }

    @Override
    public int hashCode() {
        return elementType.hashCode() * 31 + (elementType == GgufValueType.STRING
                ? Arrays.hashCode(toStringArray()) : Arrays.deepHashCode(new Object[] {values}));
    }

    static double unsignedToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    private IllegalArgumentException wrongType(String expected) {
        return new IllegalArgumentException("GGUF array of " + elementType + " is not " + expected);
    }
}
