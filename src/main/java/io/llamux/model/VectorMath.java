package io.llamux.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Float kernels of the forward pass that do not depend on a weight type. */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    private VectorMath() {
    }

    /** y[0..n) += x[0..n). */
    static void add(float[] y, float[] x, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, y, i).add(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] += x[i];
        }
    }

    /** Adds {@code bias} to each of {@code n} token-major vectors of its length; nothing when it is null. */
    static void addBias(float[] y, float[] bias, int n) {
        if (bias == null) {
            return;
        }
        int width = bias.length;
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < width; i++) {
                y[b * width + i] += bias[i];
            }
        }
    }

    /**
     * RMSNorm as ggml computes it: the mean of squares accumulated in double, scale
     * {@code 1/sqrt(mean + eps)} in float, then {@code (x * scale) * weight} (two roundings,
     * like ggml's rms_norm followed by mul).
     */
    static void rmsNorm(float[] out, int oo, float[] x, int xo, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            sum += v * v;
        }
        float mean = (float) (sum / n);
        float scale = 1f / (float) Math.sqrt(mean + eps);
        for (int i = 0; i < n; i++) {
            out[oo + i] = (x[xo + i] * scale) * weight[i];
        }
    }

    /** acc[ao..ao+n) = fma(x[xo..xo+n), a, acc[ao..]) lane by lane, each a single rounding. */
    static void fmaInto(float[] x, int xo, float a, float[] acc, int ao, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector av = FloatVector.broadcast(F, a);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, acc, ao + i)).intoArray(acc, ao + i);
        }
        // Heads of 8 (small models) on 16-lane machines: one 8-lane step rather than 8 scalar ones.
        if (n - i >= 8 && F.length() > 8) {
            FloatVector.fromArray(F8, x, xo + i).fma(FloatVector.broadcast(F8, a), FloatVector.fromArray(F8, acc, ao + i))
                    .intoArray(acc, ao + i);
            i += 8;
        }
        for (; i < n; i++) {
            acc[ao + i] = Math.fma(x[xo + i], a, acc[ao + i]);
        }
    }

    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;
    private static final java.lang.foreign.ValueLayout.OfFloat FLOAT_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /** {@link #fmaInto(float[], int, float, float[], int, int)} with {@code x} in native memory (byte offset). */
    static void fmaInto(java.lang.foreign.MemorySegment x, long xo, float a, float[] acc, int ao, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector av = FloatVector.broadcast(F, a);
        for (; i < bound; i += F.length()) {
            FloatVector.fromMemorySegment(F, x, xo + 4L * i, LE).fma(av, FloatVector.fromArray(F, acc, ao + i))
                    .intoArray(acc, ao + i);
        }
        if (n - i >= 8 && F.length() > 8) {
            FloatVector.fromMemorySegment(F8, x, xo + 4L * i, LE).fma(FloatVector.broadcast(F8, a),
                    FloatVector.fromArray(F8, acc, ao + i)).intoArray(acc, ao + i);
            i += 8;
        }
        for (; i < n; i++) {
            acc[ao + i] = Math.fma(x.get(FLOAT_LE, xo + 4L * i), a, acc[ao + i]);
        }
    }

    /** x[0..n) *= a. */
    static void scale(float[] x, int n, float a) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(a).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] *= a;
        }
    }
}
