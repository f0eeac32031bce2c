package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

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
 * <p>The dot products use fixed 8-lane (256-bit) shapes that mirror llama.cpp's AVX2 kernels
 * lane for lane (see below), so their results are the same bits on every machine. Row
 * dequantization of F16/BF16 uses the preferred width ({@link #FL} lanes, at most 512 bits;
 * {@code -Dllamux.simd.bits=256} forces 256 bits, to compare or benchmark).
 */
final class Simd {

    private static final int BITS = chooseBits();

    /** Int lanes matching {@link #F}. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    static final int L = I.length();
    /** Float lanes for row dequantization. */
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

    // ---- llama.cpp's AVX2 arithmetic, reproduced lane for lane --------------------------------
    //
    // ggml's x86 kernels (ggml-cpu/arch/x86/quants.c, vec.cpp; llamafile's tinyBLAS for prompt
    // batches) keep 8 float lanes. For the quantized types, lane i of a block or super-block holds
    // the exact integer sum over the elements e with (e mod 32) / 4 == i (maddubs + madd pair
    // them that way), each block adds d * lane by FMA, and the end sums the lanes as
    // ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). Doing exactly the same here makes the products equal
    // llama.cpp's to the bit, so an 8-bit activation never rounds the other way downstream.

    /** 8 int lanes: lane i is the 32-bit word of bytes 4i..4i+3 of a 32-element chunk. */
    static final VectorSpecies<Integer> W8 = IntVector.SPECIES_256;
    /** The 8 float lanes of ggml's accumulators. */
    static final VectorSpecies<Float> A8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> H8 = ShortVector.SPECIES_128;
    /** Lanes 4..7: the second 16 elements of a 32-element chunk. */
    static final VectorMask<Integer> UPPER4 = VectorMask.fromLong(W8, 0xF0);
    /** Bit 4i of a 32-bit mask per lane, for the 5th bits of Q5_0/Q5_1. */
    static final IntVector WORD_BIT = IntVector.zero(W8).addIndex(4);
    /** 0 for lanes 0..3, 4 for lanes 4..7: the low or high nibble of a Q4_0-style block. */
    static final IntVector NIBBLE_SHIFT = IntVector.zero(W8).blend(4, UPPER4);
    private static final VectorShuffle<Integer> DUP4 = VectorShuffle.fromOp(W8, i -> i & 3);

    /** 32 bytes at {@code off} as 8 words. */
    static IntVector words(MemorySegment s, long off) {
        return IntVector.fromMemorySegment(W8, s, off, LE);
    }

    /** 16 bytes at {@code off} as 4 words, repeated in lanes 4..7 (nibble-packed 32-blocks). */
    static IntVector words16Twice(MemorySegment s, long off) {
        return ((IntVector) IntVector.fromMemorySegment(IntVector.SPECIES_128, s, off, LE).castShape(W8, 0))
                .rearrange(DUP4);
    }

    /** Byte {@code t} of each word, sign-extended: element 4i+t of a chunk of int8 quants. */
    static IntVector sbyte(IntVector words, int t) {
        return words.lanewise(VectorOperators.LSHL, 24 - 8 * t).lanewise(VectorOperators.ASHR, 24);
    }

    /** {@code (words >>> shift) & mask} per lane. */
    static IntVector field(IntVector words, int shift, int mask) {
        return words.lanewise(VectorOperators.LSHR, shift).and(mask);
    }

    /** {@code lo} in lanes 0..3 and {@code hi} in lanes 4..7 (per-16-element scales). */
    static IntVector pair(int lo, int hi) {
        return IntVector.broadcast(W8, lo).blend(hi, UPPER4);
    }

    /** {@code acc + d * sums}, one rounding per lane: _mm256_fmadd_ps(d, cvtepi32_ps(sums), acc). */
    static FloatVector fma8(float d, IntVector sums, FloatVector acc) {
        return ((FloatVector) sums.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(A8, d), acc);
    }

    static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(A8, i -> i ^ 4);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(A8, i -> i ^ 2);
    static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(A8, i -> i ^ 1);

    /** ggml's hsum_float_8: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). Tiny, so C2 always inlines it. */
    static float hsum8(FloatVector v) {
        return fold(fold(fold(v, SWAP4), SWAP2), SWAP1).lane(0);
    }

    /** GGML_F32x8_REDUCE's last steps on one vector: ((l0+l4)+(l1+l5)) + ((l2+l6)+(l3+l7)). */
    static float hadd8(FloatVector v) {
        return fold(fold(fold(v, SWAP4), SWAP1), SWAP2).lane(0);
    }

    /** {@code v + v.rearrange(s)}: one butterfly step of a horizontal sum. */
    static FloatVector fold(FloatVector v, VectorShuffle<Float> s) {
        return v.add(v.rearrange(s));
    }

    /** 8 IEEE halves at {@code off}, widened exactly. */
    static FloatVector f16x8(MemorySegment s, long off) {
        IntVector h = ((IntVector) ShortVector.fromMemorySegment(H8, s, off, LE)
                .convertShape(VectorOperators.S2I, W8, 0)).and(0xFFFF);
        IntVector shifted = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        // Finite halves only: inf/NaN would widen to finite values >= 65536. Model weights and
        // activations that llama.cpp can use are finite, and the smaller body keeps the F16 dot
        // within what C2 inlines. (Simd.f16, used to dequantize, handles every half.)
        IntVector magnitude = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        return magnitude.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** 8 bfloat16 values at {@code off}, widened exactly. */
    static FloatVector bf16x8(MemorySegment s, long off) {
        return ((IntVector) ShortVector.fromMemorySegment(H8, s, off, LE)
                .convertShape(VectorOperators.S2I, W8, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** 8 floats at {@code off}. */
    static FloatVector f32x8(MemorySegment s, long off) {
        return FloatVector.fromMemorySegment(A8, s, off, LE);
    }

    /** Float element encodings, for {@link #load8} and {@link #tinyBlasDot}. */
    static final int F32_ELEMENTS = 0;
    static final int F16_ELEMENTS = 1;
    static final int BF16_ELEMENTS = 2;

    /** 8 elements of encoding {@code kind} at {@code off}, widened; a constant kind folds away. */
    static FloatVector load8(int kind, MemorySegment s, long off) {
        return switch (kind) {
            case F16_ELEMENTS -> f16x8(s, off);
            case BF16_ELEMENTS -> bf16x8(s, off);
            default -> f32x8(s, off);
        };
    }

    /**
     * llamafile's tinyBLAS order, which llama.cpp uses instead of vec_dot for the float formats
     * in a batch of two or more tokens: one 8-lane FMA chain, then hsum_float_8. n % 8 == 0.
     */
    static float tinyBlasDot(int kind, int bytes, MemorySegment w, long wOff, MemorySegment act, long actOff, int n) {
        FloatVector acc = FloatVector.zero(A8);
        for (int i = 0; i < n; i += 8) {
            long o = (long) i * bytes;
            acc = load8(kind, w, wOff + o).fma(load8(kind, act, actOff + o), acc);
        }
        return hsum8(acc);
    }

    private static final VectorShuffle<Integer> HALVES = VectorShuffle.fromOp(W8, i -> i >> 1);
    private static final IntVector HALF_SHIFT = IntVector.zero(W8).addIndex(1).and(1).lanewise(VectorOperators.LSHL, 4);

    /** 16 bytes at {@code off}: lane i holds bytes 2i and 2i+1 in its low 16 bits. */
    static IntVector pairs16(MemorySegment s, long off) {
        return ((IntVector) IntVector.fromMemorySegment(IntVector.SPECIES_128, s, off, LE).castShape(W8, 0))
                .rearrange(HALVES).lanewise(VectorOperators.LSHR, HALF_SHIFT);
    }
}
