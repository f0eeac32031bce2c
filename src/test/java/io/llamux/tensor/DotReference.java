package io.llamux.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Random;

/**
 * The plain scalar arithmetic every vector dot product must reproduce: dequantized weights
 * times dequantized partner-quantized activations, summed in double. For Q4_1/Q5_1 the offset m
 * meets the activations through Q8_1's stored s = d*sum(q) (llama.cpp's arithmetic, which
 * differs from m * sum(dequantized activations) by the f16 rounding of s), so the reference
 * takes the scale part from a copy of the row with m zeroed and adds m*s per block.
 */
final class DotReference {

    /** Byte offsets, within one block, of the f16 fields that random blocks must keep finite. */
    static final Map<GgmlType, int[]> HALF_FIELDS = Map.ofEntries(
            Map.entry(GgmlType.Q4_0, new int[] {Q4_0Format.D}),
            Map.entry(GgmlType.Q4_1, new int[] {Q4_1Format.D, Q4_1Format.M}),
            Map.entry(GgmlType.Q5_0, new int[] {Q5_0Format.D}),
            Map.entry(GgmlType.Q5_1, new int[] {Q5_1Format.D, Q5_1Format.M}),
            Map.entry(GgmlType.Q8_0, new int[] {Q8_0Format.D}),
            Map.entry(GgmlType.Q2_K, new int[] {Q2_KFormat.D, Q2_KFormat.DMIN}),
            Map.entry(GgmlType.Q3_K, new int[] {Q3_KFormat.D}),
            Map.entry(GgmlType.Q4_K, new int[] {Q4_KFormat.D, Q4_KFormat.DMIN}),
            Map.entry(GgmlType.Q5_K, new int[] {Q5_KFormat.D, Q5_KFormat.DMIN}),
            Map.entry(GgmlType.Q6_K, new int[] {Q6_KFormat.D}));

    /** Offset fields (zeroed to isolate the scale part): Q4_1/Q5_1 m, K-quant dmin. */
    static final Map<GgmlType, Integer> OFFSET_FIELD = Map.of(
            GgmlType.Q4_1, Q4_1Format.M, GgmlType.Q5_1, Q5_1Format.M,
            GgmlType.Q2_K, Q2_KFormat.DMIN, GgmlType.Q4_K, Q4_KFormat.DMIN, GgmlType.Q5_K, Q5_KFormat.DMIN);

    private DotReference() {
    }

    /** The reference value and the sum of magnitudes of its terms (for the tolerance). */
    record Result(double value, double magnitude) {
    }

    static Result of(WeightFormat f, MemorySegment w, long wOff, MemorySegment act, long aOff, int n) {
        GgmlType type = f.type();
        float[] weights = new float[n];
        f.dequantize(w, wOff, weights, 0, n);
        float[] a = new float[n];
        ActivationFormats.of(f.activationType()).dequantize(act, aOff, a, 0, n);
        Integer offsetField = OFFSET_FIELD.get(type);
        if (offsetField == null) {
            double sum = 0;
            double mag = 0;
            for (int i = 0; i < n; i++) {
                sum += (double) weights[i] * a[i];
                mag += Math.abs((double) weights[i] * a[i]);
            }
            return new Result(sum, mag);
        }
        // Scale part: the row with its offsets zeroed. Offset part: the rest.
        MemorySegment copy = Arena.ofAuto().allocate(f.rowBytes(n));
        copy.copyFrom(w.asSlice(wOff, f.rowBytes(n)));
        int blocks = n / type.blockSize;
        for (int b = 0; b < blocks; b++) {
            Mem.putI16(copy, (long) b * type.typeSize + offsetField, 0);
        }
        float[] scaled = new float[n];
        f.dequantize(copy, 0, scaled, 0, n);
        double sum = 0;
        double mag = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) scaled[i] * a[i];
            mag += Math.abs((double) scaled[i] * a[i]) + Math.abs(((double) weights[i] - scaled[i]) * a[i]);
        }
        if (type == GgmlType.Q4_1 || type == GgmlType.Q5_1) {
            for (int b = 0; b < blocks; b++) {
                double m = Mem.f16(w, wOff + (long) b * type.typeSize + offsetField);
                double s = Mem.f16(act, aOff + (long) b * Q8_1Activation.BYTES + Q8_1Activation.S);
                sum += m * s;
                mag += Math.abs(m * s);
            }
        } else {
            for (int i = 0; i < n; i++) {
                sum += ((double) weights[i] - scaled[i]) * a[i];
            }
        }
        return new Result(sum, mag);
    }

    /**
     * The float rounding a dot product of {@code n} elements may accumulate: each block (or,
     * for float rows, each vector step) adds one rounded product-sum to a lane accumulator,
     * plus the scale products, the lane reduction and the scalar tail. Each rounding is at
     * most 2^-24 of the running magnitude, bounded by the sum of term magnitudes.
     */
    static double tolerance(WeightFormat f, int n, double magnitude) {
        int steps = f.blockSize() > 1 ? n / f.blockSize() : n / Simd.FL + Simd.FL;
        return (steps + 8) * 0x1p-24 * magnitude + 1e-30;
    }

    /** A row of random blocks: random bytes, with every f16 scale set to a finite value. */
    static MemorySegment randomRow(GgmlType type, int n, Random rnd) {
        MemorySegment seg = Arena.ofAuto().allocate(type.bytesFor(n));
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    Mem.putF32(seg, 4L * i, (float) rnd.nextGaussian());
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    Mem.putF16(seg, 2L * i, (float) rnd.nextGaussian());
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    Mem.putI16(seg, 2L * i, BF16Activation.toBf16((float) rnd.nextGaussian()));
                }
            }
            default -> {
                byte[] bytes = new byte[(int) seg.byteSize()];
                rnd.nextBytes(bytes);
                seg.copyFrom(MemorySegment.ofArray(bytes));
                for (int b = 0; b < n / type.blockSize; b++) {
                    for (int field : HALF_FIELDS.get(type)) {
                        Mem.putF16(seg, (long) b * type.typeSize + field, (float) (rnd.nextGaussian() * 0.01));
                    }
                }
            }
        }
        return seg;
    }

    static float[] gaussian(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }
}
