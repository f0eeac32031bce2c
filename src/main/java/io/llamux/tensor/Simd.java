package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species and the few loads the kernels share.
 *
 * <p>Quantized kernels work on int lanes: {@link #L} int8 values are loaded and sign-extended to
 * an {@link IntVector} (vpmovsxbd), multiplied and summed exactly. {@code L} is 16 on AVX-512
 * and 8 elsewhere; it always divides 16, the smallest group of weights that shares a scale, so
 * no kernel has a tail inside a block. Integer sums are exact whatever {@code L} is; only the
 * order of the float accumulation across blocks depends on it.
 *
 * <p>{@code -Dllamux.simd.bits=256} forces the 256-bit shapes (to compare or benchmark).
 */
final class Simd {

    private static final int BITS = chooseBits();

    /** Int lanes for the quantized kernels. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    static final int L = I.length();
    /** Bytes loaded per int vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** Float lanes matching {@link #I}, for scaling integer block sums. */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    static final int FL = F.length();
    /** Halves loaded per float vector (F16/BF16 rows). */
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(FL * 16));

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Simd() {
    }

    private static int chooseBits() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int forced = Integer.getInteger("llamux.simd.bits", 0);
        if (forced == 256 || forced == 512) {
            return forced;
        }
        return preferred >= 512 ? 512 : 256;
    }

    /** {@link #L} signed bytes at {@code off}, sign-extended to ints. */
    static IntVector i8(MemorySegment s, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B, s, off, LE).convertShape(VectorOperators.B2I, I, 0);
    }

    /** 0, 1, 2, ... L-1: shift counts that spread a bit mask over the lanes. */
    static final IntVector IOTA = IntVector.zero(I).addIndex(1);

    /** Bit {@code first + lane} of {@code bits} in each lane, moved to bit {@code to}. */
    static IntVector bits(int bits, int first, int to) {
        return IntVector.broadcast(I, bits >>> first).lanewise(VectorOperators.LSHR, IOTA).and(1)
                .lanewise(VectorOperators.LSHL, to);
    }

    /** {@code acc + sum * d}: one block's exact integer lane sums, scaled in float. */
    static FloatVector scaleAdd(IntVector sum, float d, FloatVector acc) {
        return toFloat(sum).fma(FloatVector.broadcast(F, d), acc);
    }

    /** Butterfly shuffles i -> i ^ 2^k, widest first, for {@link #sum}. */
    private static final VectorShuffle<Float>[] BUTTERFLY = butterflies();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] butterflies() {
        int steps = Integer.numberOfTrailingZeros(FL);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int stride = FL >> (k + 1);
            s[k] = VectorShuffle.fromOp(F, i -> i ^ stride);
        }
        return s;
    }

    /**
     * The sum of the lanes in a fixed order (halves, then quarters, ...). {@code reduceLanes(ADD)}
     * leaves the order unspecified, and its interpreted and JIT-compiled forms do differ, which
     * made the same dot product change in its last bit once the JIT kicked in.
     */
    static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : BUTTERFLY) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }

    /** The int lane sums as floats. */
    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, F, 0);
    }

    /** {@link #FL} floats at {@code off}. */
    static FloatVector f32(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(F, s, off, LE);
    }

    /** {@link #FL} IEEE halves at {@code off}, widened exactly (the vector Float.float16ToFloat). */
    static FloatVector f16(MemorySegment s, long off) {
        IntVector h = ((IntVector) ShortVector.fromMemorySegment(H, s, off, LE)
                .convertShape(VectorOperators.S2I, I, 0)).and(0xFFFF);
        IntVector em = h.and(0x7FFF);
        IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
        // Exponent and mantissa moved into float position and scaled by 2^(127-15): exact for
        // normal and subnormal halves alike. Inf/NaN (exponent 31) keep an all-ones exponent.
        IntVector magnitude = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = em.compare(VectorOperators.GE, 0x7C00);
        magnitude = magnitude.blend(shifted.or(0x7F800000), special);
        return magnitude.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** {@link #FL} bfloat16 values at {@code off}, widened exactly. */
    static FloatVector bf16(MemorySegment s, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(H, s, off, LE)
                .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
