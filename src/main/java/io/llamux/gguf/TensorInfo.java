package io.llamux.gguf;

import io.llamux.tensor.GgmlType;
import java.util.Arrays;

/**
 * One tensor as the GGUF file describes it.
 *
 * @param name     the tensor's name, e.g. {@code blk.0.attn_q.weight}
 * @param ne       the shape in ggml order: {@code ne[0]} is the row length (elements per row,
 *                 contiguous in memory), {@code ne[1]} the number of rows of a matrix, and so on
 * @param type     the element type; it may be one Llamux cannot compute with
 *                 ({@code type.supported == false}), see {@link GgufFile#requireSupported}
 * @param offset   where the data starts, relative to {@link GgufFile#dataStart()}
 * @param byteSize how many bytes the data takes
 */
public record TensorInfo(String name, long[] ne, GgmlType type, long offset, long byteSize) {
    public TensorInfo {
        ne = ne.clone();
    }

    /** A copy of the shape (ggml order). */
    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** The number of dimensions (1 to 4). */
    public int dims() {
        return ne.length;
    }

    /** {@code ne[i]}, or 1 for a dimension the tensor does not have. */
    public long ne(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    /** Elements per row: {@code ne[0]}. */
    public long rowLength() {
        return ne[0];
    }

    /** The number of rows: the product of {@code ne[1..]} (1 for a vector). */
    public long rows() {
        long r = 1;
        for (int i = 1; i < ne.length; i++) {
            r *= ne[i];
        }
        return r;
    }

    public long elementCount() {
        return ne[0] * rows();
    }

    /** Bytes per row: whole blocks of {@code type}. */
    public long rowBytes() {
        return ne[0] / type.blockSize * type.typeSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && Arrays.equals(t.ne, ne) && t.type == type
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne) + " @" + offset + " (" + byteSize + " bytes)";
    }
}
