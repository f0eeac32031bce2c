package io.llamux.tensor;

import java.util.EnumMap;
import java.util.Map;

/** The table from partner type to its {@link ActivationFormat}. */
public final class ActivationFormats {

    private static final Map<GgmlType, ActivationFormat> FORMATS = new EnumMap<>(GgmlType.class);

    static {
        for (ActivationFormat f : new ActivationFormat[] {
                new F32Activation(), new F16Activation(), new BF16Activation(),
                new Q8_0Activation(), new Q8_1Activation(), new Q8_KActivation()}) {
            FORMATS.put(f.type(), f);
        }
    }

    private ActivationFormats() {
    }

    /**
     * The activation format of {@code type}.
     *
     * @throws IllegalArgumentException when {@code type} is not an activation partner type
     */
    public static ActivationFormat of(GgmlType type) {
        ActivationFormat f = FORMATS.get(type);
        if (f == null) {
            throw new IllegalArgumentException(type + " is not an activation format");
        }
        return f;
    }

    /** The activation format that weights of format {@code weights} are multiplied with. */
    public static ActivationFormat partnerOf(WeightFormat weights) {
        return of(weights.activationType());
    }
}
