package io.llamux.tensor;

/** A tensor has a ggml type that Llamux cannot compute with. */
public final class UnsupportedWeightTypeException extends IllegalArgumentException {

    private final GgmlType type;

    public UnsupportedWeightTypeException(String tensorName, GgmlType type) {
        super("tensor " + tensorName + " has type " + type + ", which Llamux does not support");
        this.type = type;
    }

    /** The type that is not supported. */
    public GgmlType type() {
        return type;
    }
}
