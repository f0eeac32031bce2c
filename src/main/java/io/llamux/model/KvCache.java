package io.llamux.model;

import io.llamux.tensor.AnonymousMemory;
import io.llamux.tensor.ActivationFormat;
import io.llamux.tensor.ActivationFormats;
import io.llamux.tensor.GgmlType;
import io.llamux.tensor.WeightFormat;
import io.llamux.tensor.WeightFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Keys and values of every layer for every position so far, off the Java heap (native memory,
 * so a 4096-token cache of a 7B model never needs {@code -Xmx}), stored as llama.cpp stores
 * them for {@code -ctk/-ctv}: F32, F16 (its default: round to nearest) or Q8_0 (blocks of 32,
 * an f16 scale each, quantized by llama.cpp's own rule). Layout per layer: position-major, then
 * KV head, then the head's elements, so one position's keys for one head are contiguous.
 *
 * <p>Keys meet queries the way llama.cpp's attention does: the query head is converted to the
 * key type's partner format (F16 for F16, Q8_0 for Q8_0) and multiplied by that weight format's
 * dot product. Values are widened and accumulated in float.
 */
public final class KvCache {
    /** A cache element type, spelled as llama.cpp's {@code --cache-type-k/-v} spell them. */
    public enum Type {
        F32(GgmlType.F32), F16(GgmlType.F16), Q8_0(GgmlType.Q8_0);

        final GgmlType ggml;

        Type(GgmlType ggml) {
            this.ggml = ggml;
        }

        /** The lower-case name llama.cpp uses: f32, f16, q8_0. */
        public String spelling() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses f32, f16 or q8_0 (any case). */
        public static Type parse(String s) {
            for (Type t : values()) {
                if (t.spelling().equalsIgnoreCase(s.trim())) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unsupported cache type '" + s + "' (use f32, f16 or q8_0)");
        }
    }

    private final Type kType;
    private final Type vType;
    private final int kvDim;
    private final int headDim;
    private final long kRowBytes;
    private final long vRowBytes;
    private final ActivationFormat kStore;
    private final ActivationFormat vStore;
    /** The dot product of a cached key head with a query head in the key type's partner format. */
    final WeightFormat keyDot;
    /** The format a query head is converted to before {@link #keyDot}. */
    final ActivationFormat queryFormat;
    private final MemorySegment[] keys;
    private final MemorySegment[] values;

    public KvCache(int layers, int contextSize, int kvDim, int headDim, Type kType, Type vType) {
        for (Type t : new Type[]{kType, vType}) {
            int block = t.ggml.blockSize;
            if (headDim % block != 0) {
                throw new IllegalArgumentException("cache type " + t.spelling() + " has blocks of " + block
                        + " elements, which do not divide the head size " + headDim + " (use f16 or f32)");
            }
        }
        this.kType = kType;
        this.vType = vType;
        this.kvDim = kvDim;
        this.headDim = headDim;
        this.kRowBytes = kType.ggml.bytesFor(kvDim);
        this.vRowBytes = vType.ggml.bytesFor(kvDim);
        this.kStore = ActivationFormats.of(kType.ggml);
        this.vStore = ActivationFormats.of(vType.ggml);
        this.keyDot = WeightFormats.of(kType.ggml);
        this.queryFormat = kStore;
        // One shared arena for the whole cache: freed with it when unreachable, readable from
        // every worker thread.
        Arena arena = Arena.ofAuto();
        keys = new MemorySegment[layers];
        values = new MemorySegment[layers];
        for (int l = 0; l < layers; l++) {
            // Mapped: a position's pages become resident when it is first written.
            keys[l] = AnonymousMemory.allocate(arena, Math.multiplyExact(kRowBytes, (long) contextSize), false);
            values[l] = AnonymousMemory.allocate(arena, Math.multiplyExact(vRowBytes, (long) contextSize), false);
        }
    }

    public Type keyType() {
        return kType;
    }

    public Type valueType() {
        return vType;
    }

    /** Bytes held by the whole cache (keys and values of every layer). */
    public long byteSize() {
        long sum = 0;
        for (int l = 0; l < keys.length; l++) {
            sum += keys[l].byteSize() + values[l].byteSize();
        }
        return sum;
    }

    /** Converts {@code n} tokens' keys and values (token-major) into positions {@code pos ..}. */
    void store(int layer, int pos, int n, float[] k, float[] v) {
        for (int b = 0; b < n; b++) {
            kStore.quantize(k, b * kvDim, kvDim, keys[layer], (pos + b) * kRowBytes);
            vStore.quantize(v, b * kvDim, kvDim, values[layer], (pos + b) * vRowBytes);
        }
    }

    MemorySegment keys(int layer) {
        return keys[layer];
    }

    MemorySegment values(int layer) {
        return values[layer];
    }

    /** Byte offset of position {@code t}'s key for the head whose elements start at {@code elem}. */
    long keyOffset(int t, int elem) {
        return t * kRowBytes + kType.ggml.bytesFor(elem);
    }

    long valueOffset(int t, int elem) {
        return t * vRowBytes + vType.ggml.bytesFor(elem);
    }

    // ---- value accumulation for the F16 and Q8_0 caches ---------------------------------------

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> H8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /**
     * {@code acc[0..hd) += w * V[t]} for one KV head (elements from {@code elem}) of position
     * {@code t}: the value widened to float (F16 exactly, Q8_0 as scale times quant), then one
     * FMA per element, vectorized across the head.
     */
    void accumulateValue(int layer, int t, int elem, int hd, float w, float[] acc) {
        MemorySegment vs = values[layer];
        long base = valueOffset(t, elem);
        switch (vType) {
            case F32 -> VectorMath.fmaInto(vs, base, w, acc, 0, hd);
            case F16 -> {
                int bound = hd & ~7;
                FloatVector pv = FloatVector.broadcast(F8, w);
                int d = 0;
                for (; d < bound; d += 8) {
                    f16x8(vs, base + 2L * d).fma(pv, FloatVector.fromArray(F8, acc, d)).intoArray(acc, d);
                }
                for (; d < hd; d++) {
                    acc[d] = Math.fma(Float.float16ToFloat(vs.get(HALF, base + 2L * d)), w, acc[d]);
                }
            }
            case Q8_0 -> {
                // hd is a whole number of 34-byte blocks (f16 scale, 32 int8): dequantize, then FMA.
                for (int blk = 0; blk < hd; blk += 32) {
                    long bo = base + (blk / 32) * 34L;
                    FloatVector dv = FloatVector.broadcast(F8, Float.float16ToFloat(vs.get(HALF, bo)));
                    FloatVector pv = FloatVector.broadcast(F8, w);
                    for (int j = 0; j < 32; j += 8) {
                        FloatVector v = ((FloatVector) ByteVector.fromMemorySegment(B8, vs, bo + 2 + j, LE)
                                .convertShape(VectorOperators.B2F, F8, 0)).mul(dv);
                        v.fma(pv, FloatVector.fromArray(F8, acc, blk + j)).intoArray(acc, blk + j);
                    }
                }
            }
        }
    }

    /**
     * ggml_vec_mad_f16 for an F16 value cache: {@code acc[d] = f16(fma(V[t][d], w, acc[d]))},
     * the accumulator kept in half precision as llama.cpp's flash attention keeps it (VKQ16).
     */
    void accumulateValueHalf(int layer, int t, int elem, int hd, float w, float[] acc) {
        if (vType != Type.F16) {
            // Each lane is independent: FMA the whole head in float, then round it, is the same
            // as rounding after each element's FMA.
            accumulateValue(layer, t, elem, hd, w, acc);
            scaleHalf(acc, hd, 1f);
            return;
        }
        // The same, in one pass over the accumulator.
        MemorySegment vs = values[layer];
        long base = valueOffset(t, elem);
        int bound = hd & ~7;
        FloatVector pv = FloatVector.broadcast(F8, w);
        int d = 0;
        for (; d < bound; d += 8) {
            FloatVector x = f16x8(vs, base + 2L * d).fma(pv, FloatVector.fromArray(F8, acc, d));
            roundToHalf(x).intoArray(acc, d);
        }
        for (; d < hd; d++) {
            float x = Math.fma(Float.float16ToFloat(vs.get(HALF, base + 2L * d)), w, acc[d]);
            acc[d] = Float.float16ToFloat(Float.floatToFloat16(x));
        }
    }

    /**
     * {@link #accumulateValueHalf} of a value row already widened to {@code v[0..hd)}: the same
     * bits, for several queries that share the row.
     */
    static void accumulateHalf(float[] v, float w, float[] acc, int hd) {
        int bound = hd & ~7;
        FloatVector pv = FloatVector.broadcast(F8, w);
        int d = 0;
        for (; d < bound; d += 8) {
            FloatVector x = FloatVector.fromArray(F8, v, d).fma(pv, FloatVector.fromArray(F8, acc, d));
            roundToHalf(x).intoArray(acc, d);
        }
        for (; d < hd; d++) {
            acc[d] = Float.float16ToFloat(Float.floatToFloat16(Math.fma(v[d], w, acc[d])));
        }
    }

    /**
     * Each lane rounded to the nearest IEEE half, as a float: Veltkamp's split keeps 11
     * significant bits for halves' normal range; below it (2^-14), adding and removing 0.75
     * (whose ulp is 2^-24, the subnormal halves' spacing) rounds to the nearest subnormal half.
     * (Values beyond 65504 would become infinite in a half; attention sums never get there.)
     * The lanes below 2^-14 are picked by the sign of their bits' difference from its bits, not
     * by a compare and blend: that pair compiled, in some 7B decodes, to blend's Java fallback
     * (a thousand allocations sampled in 32 tokens); int bit operations always intrinsify.
     * Inlined wherever it is called (scripts/jvm-options: a vector a call returns is boxed).
     */
    private static FloatVector roundToHalf(FloatVector x) {
        FloatVector c = x.mul(8193f);
        FloatVector normal = c.sub(c.sub(x));
        FloatVector tiny = x.add(0.75f).sub(0.75f);
        IntVector small = x.abs().reinterpretAsInts().sub(HALF_MIN_NORMAL_BITS).lanewise(VectorOperators.ASHR, 31);
        return normal.reinterpretAsInts().bitwiseBlend(tiny.reinterpretAsInts(), small).reinterpretAsFloats();
    }

    private static final int HALF_MIN_NORMAL_BITS = Float.floatToRawIntBits(0x1p-14f);

    /** ggml_vec_scale_f16: {@code acc[d] = f16(acc[d] * a)} (see {@link #roundToHalf}). */
    static void scaleHalf(float[] acc, int hd, float a) {
        int bound = hd & ~7;
        int d = 0;
        for (; d < bound; d += 8) {
            FloatVector x = FloatVector.fromArray(F8, acc, d).mul(a);
            roundToHalf(x).intoArray(acc, d);
        }
        for (; d < hd; d++) {
            acc[d] = Float.float16ToFloat(Float.floatToFloat16(acc[d] * a));
        }
    }

    /** Eight IEEE halves widened exactly (normal, subnormal, inf and NaN alike). */
    private static FloatVector f16x8(MemorySegment s, long off) {
        IntVector h = ((IntVector) ShortVector.fromMemorySegment(H8, s, off, LE)
                .convertShape(VectorOperators.S2I, I8, 0)).and(0xFFFF);
        IntVector em = h.and(0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        IntVector magnitude = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7C00);
        magnitude = magnitude.blend(shifted.or(0x7F800000), special);
        return magnitude.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
