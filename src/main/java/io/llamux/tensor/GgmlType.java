package io.llamux.tensor;

/**
 * The ggml tensor element types, with the ids GGUF files store and the block geometry
 * every reader needs (elements per block, bytes per block). Ids and sizes follow ggml.h /
 * ggml.c; ids with no type (4, 5: the removed Q4_2/Q4_3) are absent.
 *
 * <p>{@code supported} says whether Llamux can compute with the type; the others are known
 * only so that an error can name them.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false), // ggml's activation formats: llama-quantize writes no weights in them
    Q2_K(10, 256, 84, true),
    Q3_K(11, 256, 110, true),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    /** The id stored in GGUF tensor infos. */
    public final int id;
    /** Elements per block (1 for plain float types). */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;
    /** Whether Llamux computes with this type. */
    public final boolean supported;

    GgmlType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    /** The type with this id, or null when ggml has none. */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /**
     * Bytes taken by {@code n} elements; {@code n} must be a multiple of the block size.
     *
     * @throws IllegalArgumentException when it is not, or the size overflows a long
     */
    public long bytesFor(long n) {
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(n + " elements is not a whole number of " + this + " blocks of " + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }
}
