package io.llamux.tensor;

import java.util.EnumMap;
import java.util.Map;

/** The table from ggml type to its {@link WeightFormat}: the one place that knows every class. */
public final class WeightFormats {

    private static final Map<GgmlType, WeightFormat> FORMATS = new EnumMap<>(GgmlType.class);

    static {
        for (WeightFormat f : new WeightFormat[] {
                new F32Format(), new F16Format(), new BF16Format(),
                new Q4_0Format(), new Q4_1Format(), new Q5_0Format(), new Q5_1Format(), new Q8_0Format(),
                new Q2_KFormat(), new Q3_KFormat(), new Q4_KFormat(), new Q5_KFormat(), new Q6_KFormat()}) {
            FORMATS.put(f.type(), f);
        }
    }

    /** Types with a load-time layout for fast matmuls; the rest compute from the file's layout. */
    private static final Map<GgmlType, RepackedFormat> REPACKED = new EnumMap<>(GgmlType.class);

    static {
        REPACKED.put(GgmlType.Q4_0, new Q4_0x8());
        REPACKED.put(GgmlType.Q4_K, new Q4_Kx8());
        REPACKED.put(GgmlType.Q6_K, new Q6_Kx8());
        REPACKED.put(GgmlType.Q8_0, new Q8_0x8());
    }

    private WeightFormats() {
    }

    /**
     * The repacked layout for {@code type}, or null where there is none. {@code -Dllamux.repack=false}
     * turns them all off (to compare against the file-layout kernels).
     */
    public static RepackedFormat repacked(GgmlType type) {
        return Boolean.parseBoolean(System.getProperty("llamux.repack", "true")) ? REPACKED.get(type) : null;
    }

    /** Whether {@code type} can be used as a weight type. */
    public static boolean isSupported(GgmlType type) {
        return FORMATS.containsKey(type);
    }

    /**
     * The format of {@code type}.
     *
     * @throws IllegalArgumentException naming the type when Llamux does not support it as weights
     */
    public static WeightFormat of(GgmlType type) {
        WeightFormat f = FORMATS.get(type);
        if (f == null) {
            throw new IllegalArgumentException("weight type " + type + " is not supported by Llamux");
        }
        return f;
    }

    /**
     * The format of tensor {@code tensorName}'s type.
     *
     * @throws UnsupportedWeightTypeException naming the tensor and the type when it is not supported
     */
    public static WeightFormat require(GgmlType type, String tensorName) {
        WeightFormat f = FORMATS.get(type);
        if (f == null) {
            throw new UnsupportedWeightTypeException(tensorName, type);
        }
        return f;
    }
}
