package io.llamux.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float functions computed the way ggml's CPU backend computes them on AVX2 machines, rounding
 * step by rounding step, so that activations match llama.cpp's bit for bit as often as
 * possible.
 *
 * <p>Why it matters: before every matmul with quantized weights the activations are rounded to
 * 8-bit integers. A value that differs from llama.cpp's by one float ulp can land on the other
 * side of a rounding boundary, and one such flip moves the logits by up to 1e-2, ten times the
 * golden tolerance. Plain {@code Math.exp} and a different summation order cause exactly such
 * ulp differences, in the attention softmax and in SiLU.
 *
 * <p>ggml (vec.h, vec.cpp): {@code ggml_v_expf} is a polynomial exp on 8 lanes (maximum error
 * 1.5 ulp, not correctly rounded); softmax and SwiGLU apply it to groups of 8 elements and use
 * the C library's {@code expf} only for a tail shorter than 8. llamafile's tinyBLAS, which does
 * F32 matmuls whose length is a multiple of 8, keeps one 8-lane FMA accumulator per output and
 * adds its lanes as {@code (l0+l4 + l2+l6) + (l1+l5 + l3+l7)}.
 */
final class GgmlMath {
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private GgmlMath() {
    }

    /** ggml_v_expf for one lane (all lanes are independent). */
    static float expf(float x) {
        final float r = 0x1.8p23f;
        float z = Math.fma(x, 0x1.715476p+0f, r);
        float n = z - r;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        int e = Float.floatToRawIntBits(z) << 23;
        float k = Float.intBitsToFloat(e + Float.floatToRawIntBits(1f));
        float u = b * b;
        float j = Math.fma(
                Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                u, 0x1.ffffecp-1f * b);
        if (!(Math.abs(n) > 126f)) {
            return Math.fma(j, k, k);
        }
        // Outside the normal range: scale in two steps, or saturate to 0 / infinity.
        int g = n <= 0f ? 0x82000000 : 0;
        float s1 = Float.intBitsToFloat(g + 0x7f000000);
        float s2 = Float.intBitsToFloat(e - g);
        if (Math.abs(n) > 192f) {
            return s1 * s1;
        }
        return Math.fma(s2, j, s2) * s1;
    }

    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final FloatVector ROUND = FloatVector.broadcast(S8, 0x1.8p23f);
    private static final FloatVector ONE = FloatVector.broadcast(S8, 1f);

    /**
     * {@link #expf} on 8 lanes at once: the same operations lane by lane (FMA is exact on
     * both sides), hence the same bits, including the saturated lanes.
     */
    static FloatVector expf(FloatVector x) {
        var z = x.fma(FloatVector.broadcast(S8, 0x1.715476p+0f), ROUND);
        var n = z.sub(ROUND);
        var negN = n.neg();
        var b = negN.fma(FloatVector.broadcast(S8, 0x1.7f7d1cp-20f),
                negN.fma(FloatVector.broadcast(S8, 0x1.62e4p-1f), x));
        var e = z.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        var k = e.add(Float.floatToRawIntBits(1f)).reinterpretAsFloats();
        var u = b.mul(b);
        var p = b.fma(0x1.0e4020p-7f, 0x1.573e2ep-5f).fma(u, b.fma(0x1.555e66p-3f, 0x1.fffdb6p-2f));
        var j = p.fma(u, b.mul(0x1.ffffecp-1f));
        var normal = j.fma(k, k);
        var absN = n.abs();
        var c = absN.compare(VectorOperators.GT, 126f);
        if (!c.anyTrue()) {
            return normal;
        }
        // Outside the normal range (masked attention scores are -inf): ggml's two-step scaling,
        // lane by lane as in the scalar form, with blends instead of branches.
        var nonPositive = n.compare(VectorOperators.LE, 0f).cast(I8);
        var g = IntVector.zero(I8).blend(0x82000000, nonPositive);
        var s1 = g.add(0x7f000000).reinterpretAsFloats();
        var s2 = ((IntVector) e).sub(g).reinterpretAsFloats();
        var scaled = s2.fma(j, s2).mul(s1);
        var huge = absN.compare(VectorOperators.GT, 192f);
        return normal.blend(scaled, c).blend(s1.mul(s1), huge);
    }

    /** ggml_silu_f32 of the scalar tail: x / (1 + expf(-x)) with the C library's expf. */
    private static float siluTail(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    /** ggml_vec_swiglu_f32: gate[i] = silu(gate[i]) * up[i] over one row of {@code n}. */
    static void swiglu(float[] gate, float[] up, int off, int n) {
        int vectorEnd = n & ~7; // groups of 8 take ggml_v_silu, the tail the scalar form
        for (int i = 0; i < vectorEnd; i += 8) {
            var x = FloatVector.fromArray(S8, gate, off + i);
            var silu = x.div(ONE.add(expf(x.neg())));
            silu.mul(FloatVector.fromArray(S8, up, off + i)).intoArray(gate, off + i);
        }
        for (int i = vectorEnd; i < n; i++) {
            gate[off + i] = siluTail(gate[off + i]) * up[off + i];
        }
    }

    /**
     * ggml_vec_soft_max_f32 followed by the scaling by 1/sum: {@code s[0..n)} becomes
     * softmax(s). Groups of 8 use {@link #expf} and are summed in ggml's lane order into a
     * double; the tail uses the C library's exp.
     */
    static void softmax(float[] s, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, s[i]);
        }
        double sum = 0;
        int i = 0;
        var vmax = FloatVector.broadcast(S8, max);
        for (; i + 7 < n; i += 8) {
            expf(FloatVector.fromArray(S8, s, i).sub(vmax)).intoArray(s, i);
            sum += hsum8(s, i);
        }
        for (; i < n; i++) {
            float v = (float) Math.exp(s[i] - max);
            s[i] = v;
            sum += v;
        }
        float inv = (float) (1.0 / sum);
        for (int t = 0; t < n; t++) {
            s[t] *= inv;
        }
    }


    /**
     * tinyBLAS's F32 dot product (n a multiple of 8): one 8-lane FMA accumulator, lanes added
     * by {@link #hsum8}. {@code lanes} is 8 floats of scratch.
     */
    static float dotTiny(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
        var acc = FloatVector.zero(S8);
        for (int i = 0; i < n; i += 8) {
            acc = FloatVector.fromArray(S8, a, ao + i)
                    .fma(FloatVector.fromArray(S8, b, bo + i), acc);
        }
        return hsum8(acc);
    }

    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;
    private static final java.lang.foreign.ValueLayout.OfFloat FLOAT_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /**
     * ggml_vec_dot_f32 on AVX2: four 8-lane FMA accumulators over steps of 32, combined as
     * (a0+a2)+(a1+a3), then lanes (l+l4) and two horizontal adds; the tail below a multiple
     * of 32 is added one product at a time. {@code b} is in native memory: F32 weights, or the
     * F32 KV cache.
     */
    static float dotVec(float[] a, int ao, java.lang.foreign.MemorySegment b, long bo, int n) {
        int np = n & ~31;
        float sum = 0f;
        if (np > 0) {
            var s0 = FloatVector.zero(S8);
            var s1 = s0;
            var s2 = s0;
            var s3 = s0;
            for (int i = 0; i < np; i += 32) {
                long o = bo + 4L * i;
                s0 = FloatVector.fromArray(S8, a, ao + i).fma(FloatVector.fromMemorySegment(S8, b, o, LE), s0);
                s1 = FloatVector.fromArray(S8, a, ao + i + 8).fma(FloatVector.fromMemorySegment(S8, b, o + 32, LE), s1);
                s2 = FloatVector.fromArray(S8, a, ao + i + 16).fma(FloatVector.fromMemorySegment(S8, b, o + 64, LE), s2);
                s3 = FloatVector.fromArray(S8, a, ao + i + 24).fma(FloatVector.fromMemorySegment(S8, b, o + 96, LE), s3);
            }
            sum = reduceVecDot(s0.add(s2).add(s1.add(s3)));
        }
        for (int i = np; i < n; i++) {
            sum = Math.fma(a[ao + i], b.get(FLOAT_LE, bo + 4L * i), sum);
        }
        return sum;
    }

    /**
     * ggml_norm followed by ggml_mul and ggml_add (gpt2's LayerNorm): the mean from a double
     * sum rounded to float, the variance by ggml_vec_cvar_f32 (squares summed 8 at a time in
     * AVX lane order, into a double), {@code 1/sqrt(var + eps)} in float, then
     * {@code ((x - mean) * scale) * w + b}, each step rounded.
     */
    static void layerNorm(float[] out, int oo, float[] x, int xo, float[] w, float[] bias, int n, float eps,
                          float[] lanes) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += x[xo + i];
        }
        float mean = (float) total / n;
        double sum = 0;
        int i = 0;
        for (; i + 7 < n; i += 8) {
            for (int l = 0; l < 8; l++) {
                float d = x[xo + i + l] - mean;
                out[oo + i + l] = d;
                lanes[l] = d * d;
            }
            sum += hsum8(lanes, 0);
        }
        for (; i < n; i++) {
            float d = x[xo + i] - mean;
            out[oo + i] = d;
            sum += d * d;
        }
        float variance = (float) (sum / n);
        float scale = 1f / (float) Math.sqrt(variance + eps);
        for (int j = 0; j < n; j++) {
            out[oo + j] = out[oo + j] * scale * w[j] + bias[j];
        }
    }

    private static float[] geluTable;

    /**
     * ggml_vec_gelu_f32 as built (GGML_GELU_FP16): tanh-GELU read from a table indexed by the
     * input rounded to fp16, the entry itself rounded to fp16; inputs at or below -10 give 0,
     * at or above 10 pass through.
     */
    static void gelu(float[] x, int off, int n) {
        float[] table = geluTable();
        for (int i = off; i < off + n; i++) {
            float v = x[i];
            if (v <= -10f) {
                x[i] = 0f;
            } else if (v < 10f) {
                x[i] = table[Float.floatToFloat16(v) & 0xFFFF];
            }
        }
    }

    private static synchronized float[] geluTable() {
        if (geluTable == null) {
            float[] t = new float[1 << 16];
            for (int h = 0; h < t.length; h++) {
                float v = Float.float16ToFloat((short) h);
                float inner = 0.79788456080286535587989211986876f * v * (1.0f + 0.044715f * v * v);
                float g = 0.5f * v * (1.0f + (float) Math.tanh(inner));
                t[h] = Float.float16ToFloat(Float.floatToFloat16(g));
            }
            geluTable = t;
        }
        return geluTable;
    }

    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromValues(S8, 4, 5, 6, 7, 0, 1, 2, 3);
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromValues(S8, 2, 3, 0, 1, 6, 7, 4, 5);
    private static final VectorShuffle<Float> SWAP_ADJACENT = VectorShuffle.fromValues(S8, 1, 0, 3, 2, 5, 4, 7, 6);

    /** {@link #hsum8(float[], int)} of a vector, with two shuffles instead of eight extractions. */
    static float hsum8(FloatVector v) {
        var a = v.add(v.rearrange(SWAP_HALVES)); // lane i < 4: l(i) + l(i+4)
        var b = a.add(a.rearrange(SWAP_PAIRS));  // lane 0: a0 + a2, lane 1: a1 + a3
        return b.lane(0) + b.lane(1);
    }

    /**
     * ggml_vec_dot_f32's final reduction of its combined accumulator: t_i = l(i) + l(i+4), then
     * two horizontal adds, (t0 + t1) + (t2 + t3).
     */
    static float reduceVecDot(FloatVector v) {
        var t = v.add(v.rearrange(SWAP_HALVES));
        var h = t.add(t.rearrange(SWAP_ADJACENT)); // lane 0: t0 + t1, lane 2: t2 + t3
        return h.lane(0) + h.lane(2);
    }

    /** The AVX horizontal sum of 8 lanes: (l0+l4 + l2+l6) + (l1+l5 + l3+l7). */
    static float hsum8(float[] l, int o) {
        float a0 = l[o + 4] + l[o];
        float a1 = l[o + 5] + l[o + 1];
        float a2 = l[o + 6] + l[o + 2];
        float a3 = l[o + 7] + l[o + 3];
        return (a0 + a2) + (a1 + a3);
    }
}
