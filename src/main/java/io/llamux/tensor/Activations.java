package io.llamux.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A reusable buffer of activation vectors converted to one partner format, for feeding
 * {@link WeightFormat#dot} and the matmuls: allocate once per (format, length, batch), then
 * {@link #quantize} every step without allocating. Row {@code r} starts at {@link #offset}(r).
 * Not thread-safe to fill; reading from several threads while nobody writes is fine.
 */
public final class Activations {

    private final ActivationFormat format;
    private final int n;
    private final int rows;
    private final long rowBytes;
    private final MemorySegment segment;

    /** Room for {@code rows} vectors of {@code n} elements in format {@code partner}. */
    public Activations(GgmlType partner, int n, int rows) {
        this.format = ActivationFormats.of(partner);
        if (rows < 1) {
            throw new IllegalArgumentException("need at least one row, got " + rows);
        }
        this.n = n;
        this.rows = rows;
        this.rowBytes = format.rowBytes(n);
        // Native memory: Vector API loads from it need no array bounds or base-object checks.
        this.segment = Arena.ofAuto().allocate(Math.multiplyExact(rowBytes, (long) rows), 64);
    }

    /** A buffer for the partner format of {@code weights}. */
    public static Activations forWeights(WeightFormat weights, int n, int rows) {
        return new Activations(weights.activationType(), n, rows);
    }

    /**
     * Converts {@code x[off..off+n)} into a new segment of its own (convenient in tests; the
     * forward pass should reuse an {@code Activations} instead).
     */
    public static MemorySegment quantize(GgmlType partner, float[] x, int off, int n) {
        Activations a = new Activations(partner, n, 1);
        a.quantize(0, x, off);
        return a.segment();
    }

    /** Converts {@code x[off..off+n)} into row {@code row}. */
    public void quantize(int row, float[] x, int off) {
        format.quantize(x, off, n, segment, offset(row));
    }

    /**
     * Converts {@code count} vectors stored back to back in {@code x} from {@code off} (vector b
     * at {@code off + b * n}) into rows 0..count-1, for batched matmuls.
     */
    public void quantizeRows(float[] x, int off, int count) {
        for (int b = 0; b < count; b++) {
            quantize(b, x, off + b * n);
        }
    }

    /** Converts {@code x[off..off+n)} into row 0 and returns the whole segment. */
    public MemorySegment quantize(float[] x, int off) {
        quantize(0, x, off);
        return segment;
    }

    /** The byte offset of row {@code row} in {@link #segment()}. */
    public long offset(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of " + rows);
        }
        return row * rowBytes;
    }

    public MemorySegment segment() {
        return segment;
    }

    public GgmlType type() {
        return format.type();
    }

    public ActivationFormat format() {
        return format;
    }

    /** Elements per row. */
    public int length() {
        return n;
    }

    public int rows() {
        return rows;
    }

    public long rowBytes() {
        return rowBytes;
    }
}
