package io.llamux.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Float kernels of the forward pass that do not depend on a weight type. */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private VectorMath() {
    }

    /** a[ao..ao+n) · b[bo..bo+n). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /** Little-endian f32 row in a segment, starting at byte {@code off}, dotted with x[xo..xo+n). */
    static float dot(MemorySegment w, long off, float[] x, int xo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        for (; i < bound; i += F.length()) {
            FloatVector wv = FloatVector.fromMemorySegment(F, w, off + 4L * i, ByteOrder.LITTLE_ENDIAN);
            acc = wv.fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += w.get(F32_LE, off + 4L * i) * x[xo + i];
        }
        return sum;
    }

    /** y[yo..yo+n) += a * x[xo..xo+n). */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        int bound = F.loopBound(n);
        FloatVector av = FloatVector.broadcast(F, a);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
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
}
