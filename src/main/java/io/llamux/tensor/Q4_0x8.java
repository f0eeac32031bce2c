package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0 weights of eight rows interleaved block by block, so that one 16-lane short multiply
 * serves all eight rows, with Q8_0 activations held as int16 pairs that are broadcast to them.
 *
 * <p>A group of eight rows is, for each block column c (32 weights of every row):
 * <pre>
 *   144c       u16 q[4][16]  vector k, lane 2r+h: elements 8k+4h+j (j = 0..3) of row r's block c
 *                            as the unsigned nibbles (q+8) at bits 4j..4j+3
 *   144c+128   f16 d[8]      row r's block scale
 * </pre>
 * so a group takes exactly the bytes of its eight rows in the file, and can be repacked where
 * it lies.
 * and a prepared activation vector, for each block c, 18 ints:
 * <pre>
 *   18c+m      m = 4k+j < 16: elements 8k+j (low half) and 8k+4+j (high half) as int16
 *   18c+16     the Q8_0 scale's float bits (the f16-rounded value llama.cpp multiplies by)
 *   18c+17     8 * the sum of the block's quants: the nibbles' +8 bias, taken out at once
 * </pre>
 * Broadcasting int m over the eight int lanes puts element 8k+4h+j in short lane 2r+h of every
 * row r, against that row's nibble j of vector k. Each short lane adds 16 products
 * nibble*quant, at most 16 * 15 * 127 = 30480 in magnitude, so int16 holds them exactly; a
 * row's two lanes are then added as ints, and its block sums are added in block order.
 *
 * <p>The eight f16 scales of a block are widened by shifting their bits into a float's place
 * with no exponent rebias, which gives each scale times 2^-112 exactly (f16 subnormals become
 * float subnormals, exactly too); the rows' sums are kept in that unit and multiplied by
 * 2^112 once at the end. Three instructions a block instead of a table or eight scalar
 * conversions. Sums far below 2^-14 in magnitude lose relative precision that way, never more
 * than 2^-37 absolute, far inside every tolerance. (Infinite or NaN scales, which no
 * quantizer writes, would not stay infinite.)
 */
final class Q4_0x8 implements RepackedFormat {

    static final int ROWS = 8;
    static final int W_BLOCK = 144;
    static final int W_SCALES = 128;
    static final int A_BLOCK = 18;
    static final int A_SCALE = 16;
    static final int A_BIAS = 17;

    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public int rows() {
        return ROWS;
    }

    private static int blocks(int cols) {
        Mem.checkBlocks(GgmlType.Q4_0, cols);
        return cols / Q4_0Format.QK;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) blocks(cols) * W_BLOCK;
    }

    @Override
    public int activationInts(int cols) {
        return blocks(cols) * A_BLOCK;
    }

    /** Element of a block held by short lane {@code lane}, nibble {@code j}, of vector {@code k}. */
    private static int element(int k, int lane, int j) {
        return 8 * k + 4 * (lane & 1) + j;
    }

    /**
     * Writes one block column of eight rows in this layout (128 bytes at {@code out}) from 32
     * nibbles a row in a file's layout: row r's element e is at bits {@code shift + 4 * (e >>
     * spanBits)} of byte {@code e % 2^spanBits} from {@code first + r * srcRowBytes} (Q4_0: runs
     * of 16, the low nibbles first; a Q4_K sub-block: one run of 32, all at one shift).
     */
    static void interleave(MemorySegment src, long first, long srcRowBytes, int spanBits, int shift,
                           MemorySegment dst, long out) {
        for (int r = 0; r < ROWS; r++) {
            long row = first + r * srcRowBytes;
            for (int k = 0; k < 4; k++) {
                for (int h = 0; h < 2; h++) {
                    int e = element(k, h, 0);
                    int bytes = Mem.i32(src, row + (e & ((1 << spanBits) - 1)));
                    Mem.putI16(dst, out + 32L * k + 2L * (2 * r + h), lane(bytes, shift + 4 * (e >> spanBits)));
                }
            }
        }
    }

    /** One weight lane: the nibbles at bit {@code shift} of the four bytes of {@code bytes}. */
    private static int lane(int bytes, int shift) {
        int x = bytes >>> shift;
        return (x & 0xF) | (x >>> 4 & 0xF0) | (x >>> 8 & 0xF00) | (x >>> 12 & 0xF000);
    }

    /** The unsigned nibble of element {@code e} of row {@code row} in the block column at {@code in}. */
    static int nibble(MemorySegment w, long in, int row, int e) {
        int k = e / 8;
        int h = (e / 4) & 1;
        return (Mem.u16(w, in + 32L * k + 2L * (2 * row + h)) >> (4 * (e & 3))) & 0xF;
    }

    /** The block element whose quant is the low half of activation int m (its high half: +4). */
    static int pairElement(int m) {
        return 8 * (m / 4) + (m % 4);
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long out = dstOff + (long) c * W_BLOCK;
            for (int r = 0; r < ROWS; r++) {
                long blk = srcOff + r * srcRowBytes + (long) c * Q4_0Format.BYTES;
                Mem.putI16(dst, out + W_SCALES + 2L * r, Mem.i16(src, blk + Q4_0Format.D));
            }
            interleave(src, srcOff + (long) c * Q4_0Format.BYTES + Q4_0Format.QS, srcRowBytes, 4, 0, dst, out);
        }
    }

    @Override
    public void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long in = wOff + (long) c * W_BLOCK;
            float d = Mem.f16(w, in + W_SCALES + 2L * row);
            for (int e = 0; e < Q4_0Format.QK; e++) {
                out[outOff + c * Q4_0Format.QK + e] = (nibble(w, in, row, e) - 8) * d;
            }
        }
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        for (int c = 0; c < blocks(cols); c++) {
            int xo = off + c * Q4_0Format.QK;
            int at = dstOff + c * A_BLOCK;
            float amax = Q8_0Activation.amax(x, xo);
            float id = Q8_0Activation.inverseScale(amax);
            int sum = 0;
            for (int m = 0; m < 16; m++) {
                int e = pairElement(m);
                int lo = Q8_0Activation.quant(id, x[xo + e]);
                int hi = Q8_0Activation.quant(id, x[xo + e + 4]);
                dst[at + m] = (lo & 0xFFFF) | (hi << 16);
                sum += lo + hi;
            }
            dst[at + A_SCALE] = Float.floatToRawIntBits(Q8_0Activation.storedScale(amax));
            dst[at + A_BIAS] = 8 * sum;
        }
    }

    // The loop body is written out, with no calls but the Vector API's: a vector that crosses a
    // call C2 did not inline is boxed (an allocation per block), C2 stops inlining once a method
    // has grown past its node budget, and an inner loop over the four weight vectors would get
    // pre- and post-loops with bounds checks of their own. Nibbles are shifted in int lanes
    // (each int's two shorts at once, the mask clearing what crosses between them): C2 emits
    // short-lane shifts by a constant as a count moved into a register first, one more
    // instruction each (measured: 2.9 vs 3.4 ns per row and block, one thread).
    private static final int NIBBLES = 0x000F_000F;

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        FloatVector acc = FloatVector.zero(F8);
        for (int c = 0; c < blocks; c++) {
            long wb = wOff + (long) c * W_BLOCK;
            int ab = actOff + c * A_BLOCK;
            IntVector q0 = IntVector.fromMemorySegment(I8, w, wb, LE);
            IntVector q1 = IntVector.fromMemorySegment(I8, w, wb + 32, LE);
            IntVector q2 = IntVector.fromMemorySegment(I8, w, wb + 64, LE);
            IntVector q3 = IntVector.fromMemorySegment(I8, w, wb + 96, LE);
            ShortVector s0 = q0.and(NIBBLES).reinterpretAsShorts().mul(IntVector.broadcast(I8, act[ab]).reinterpretAsShorts())
                    .add(q0.lanewise(VectorOperators.LSHR, 4).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 1]).reinterpretAsShorts()))
                    .add(q0.lanewise(VectorOperators.LSHR, 8).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 2]).reinterpretAsShorts()))
                    .add(q0.lanewise(VectorOperators.LSHR, 12).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 3]).reinterpretAsShorts()));
            ShortVector s1 = q1.and(NIBBLES).reinterpretAsShorts().mul(IntVector.broadcast(I8, act[ab + 4]).reinterpretAsShorts())
                    .add(q1.lanewise(VectorOperators.LSHR, 4).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 5]).reinterpretAsShorts()))
                    .add(q1.lanewise(VectorOperators.LSHR, 8).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 6]).reinterpretAsShorts()))
                    .add(q1.lanewise(VectorOperators.LSHR, 12).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 7]).reinterpretAsShorts()));
            ShortVector s2 = q2.and(NIBBLES).reinterpretAsShorts().mul(IntVector.broadcast(I8, act[ab + 8]).reinterpretAsShorts())
                    .add(q2.lanewise(VectorOperators.LSHR, 4).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 9]).reinterpretAsShorts()))
                    .add(q2.lanewise(VectorOperators.LSHR, 8).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 10]).reinterpretAsShorts()))
                    .add(q2.lanewise(VectorOperators.LSHR, 12).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 11]).reinterpretAsShorts()));
            ShortVector s3 = q3.and(NIBBLES).reinterpretAsShorts().mul(IntVector.broadcast(I8, act[ab + 12]).reinterpretAsShorts())
                    .add(q3.lanewise(VectorOperators.LSHR, 4).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 13]).reinterpretAsShorts()))
                    .add(q3.lanewise(VectorOperators.LSHR, 8).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 14]).reinterpretAsShorts()))
                    .add(q3.lanewise(VectorOperators.LSHR, 12).and(NIBBLES).reinterpretAsShorts()
                            .mul(IntVector.broadcast(I8, act[ab + 15]).reinterpretAsShorts()));
            IntVector pairs = s0.add(s1).add(s2.add(s3)).reinterpretAsInts();
            IntVector sums = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs.lanewise(VectorOperators.ASHR, 16)).sub(act[ab + A_BIAS]);
            // Sign-extended, shifted to the float's exponent field, bits 28..30 cleared: d * 2^-112.
            FloatVector d = ((IntVector) ShortVector.fromMemorySegment(S8, w, wb + W_SCALES, LE)
                    .convertShape(VectorOperators.S2I, I8, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats();
            acc = ((FloatVector) sums.convert(VectorOperators.I2F, 0))
                    .mul(Float.intBitsToFloat(act[ab + A_SCALE]))
                    .fma(d, acc);
        }
        acc.mul(0x1p112f).intoArray(y, yOff);
    }
}
