package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights of eight rows interleaved four quants at a time, so that one 16-lane short
 * multiply serves all eight rows, with Q8_0 activations held as int16 pairs that are broadcast
 * to them (as {@link Q4_0x8}).
 *
 * <p>A group of eight rows is, for each block column c (32 weights of every row):
 * <pre>
 *   272c+32k+4r  i8  q[4]  quants 4k..4k+3 of row r's block c, as in the file (k = 0..7)
 *   272c+256     f16 d[8]  row r's block scale
 * </pre>
 * so a group takes exactly the bytes of its eight rows in the file, and can be repacked where
 * it lies; the quants move as whole 32-bit words. Short lane 2r+h of vector k holds quants
 * 4k+2h (low byte) and 4k+2h+1 (high byte) of row r. A prepared activation vector is, for each
 * block c, 17 ints:
 * <pre>
 *   17c+2k+b   elements 4k+b (low half) and 4k+2+b (high half) as int16 (b = 0, 1)
 *   17c+16     the Q8_0 scale's float bits (the f16-rounded value llama.cpp multiplies by)
 * </pre>
 * so the low bytes of vector k, sign-extended in place, meet int 2k broadcast, and the high
 * bytes int 2k+1.
 *
 * <p>Why not Q4_0x8's sixteen products per short lane: a product of two quants reaches
 * 128 * 127 = 16256 in magnitude (a file may hold -128), so a short lane holds two exactly
 * (32512), no more. Each vector's two products per lane are therefore widened at once: the
 * lane's int (the row's two shorts) sign-extended from both halves and added, five
 * instructions a vector, into the exact int sum per row and block that ggml computes.
 * Splitting each quant into two nibbles instead (16 hi + lo, each pass a Q4_0x8 loop) would
 * take two multiplies and the nibble unpacking per quant pair where this takes one: measured
 * in cache, this loop costs what Q4_0x8's does per block, and from memory it is held by the
 * memory, not the instructions (about 27 ns a block, 10 GB/s, one thread). The scales are
 * widened as in {@link Q4_0x8}, in units of 2^-112.
 */
final class Q8_0x8 implements RepackedFormat {

    static final int ROWS = 8;
    static final int W_BLOCK = ROWS * Q8_0Format.BYTES;
    static final int W_SCALES = ROWS * Q8_0Format.QK;
    static final int A_BLOCK = 17;
    static final int A_SCALE = 16;

    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public int rows() {
        return ROWS;
    }

    private static int blocks(int cols) {
        Mem.checkBlocks(GgmlType.Q8_0, cols);
        return cols / Q8_0Format.QK;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) blocks(cols) * W_BLOCK;
    }

    @Override
    public int activationInts(int cols) {
        return blocks(cols) * A_BLOCK;
    }

    /** Where quant {@code e} of row {@code r} lies in a repacked block. */
    private static int offset(int r, int e) {
        return 32 * (e / 4) + 4 * r + (e % 4);
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long out = dstOff + (long) c * W_BLOCK;
            for (int r = 0; r < ROWS; r++) {
                long blk = srcOff + r * srcRowBytes + (long) c * Q8_0Format.BYTES;
                Mem.putI16(dst, out + W_SCALES + 2L * r, Mem.i16(src, blk + Q8_0Format.D));
                for (int e = 0; e < Q8_0Format.QK; e += 4) {
                    Mem.putI32(dst, out + offset(r, e), Mem.i32(src, blk + Q8_0Format.QS + e));
                }
            }
        }
    }

    @Override
    public void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long in = wOff + (long) c * W_BLOCK;
            float d = Mem.f16(w, in + W_SCALES + 2L * row);
            for (int e = 0; e < Q8_0Format.QK; e++) {
                out[outOff + c * Q8_0Format.QK + e] = Mem.i8(w, in + offset(row, e)) * d;
            }
        }
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        for (int c = 0; c < blocks(cols); c++) {
            int xo = off + c * Q8_0Format.QK;
            int at = dstOff + c * A_BLOCK;
            float amax = Q8_0Activation.amax(x, xo);
            float id = Q8_0Activation.inverseScale(amax);
            for (int m = 0; m < 16; m++) {
                int e = 4 * (m / 2) + (m % 2);
                int lo = Q8_0Activation.quant(id, x[xo + e]);
                int hi = Q8_0Activation.quant(id, x[xo + e + 2]);
                dst[at + m] = (lo & 0xFFFF) | (hi << 16);
            }
            dst[at + A_SCALE] = Float.floatToRawIntBits(Q8_0Activation.storedScale(amax));
        }
    }

    // Written out, with no calls but the Vector API's (see Q4_0x8). The low bytes are moved to
    // the top of their short by an int-lane shift (what crosses into the next short is shifted
    // out again) and both bytes sign-extended by short-lane shifts.

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        FloatVector acc = FloatVector.zero(F8);
        for (int c = 0; c < blocks; c++) {
            long wb = wOff + (long) c * W_BLOCK;
            int ab = actOff + c * A_BLOCK;
            IntVector q0 = IntVector.fromMemorySegment(I8, w, wb + 0, LE);
            IntVector p0 = q0.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 0]).reinterpretAsShorts())
                    .add(q0.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 1]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r0 = p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p0.lanewise(VectorOperators.ASHR, 16));
            IntVector q1 = IntVector.fromMemorySegment(I8, w, wb + 32, LE);
            IntVector p1 = q1.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 2]).reinterpretAsShorts())
                    .add(q1.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 3]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r1 = p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p1.lanewise(VectorOperators.ASHR, 16));
            IntVector q2 = IntVector.fromMemorySegment(I8, w, wb + 64, LE);
            IntVector p2 = q2.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 4]).reinterpretAsShorts())
                    .add(q2.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 5]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r2 = p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p2.lanewise(VectorOperators.ASHR, 16));
            IntVector q3 = IntVector.fromMemorySegment(I8, w, wb + 96, LE);
            IntVector p3 = q3.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 6]).reinterpretAsShorts())
                    .add(q3.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 7]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r3 = p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p3.lanewise(VectorOperators.ASHR, 16));
            IntVector q4 = IntVector.fromMemorySegment(I8, w, wb + 128, LE);
            IntVector p4 = q4.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 8]).reinterpretAsShorts())
                    .add(q4.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 9]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r4 = p4.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p4.lanewise(VectorOperators.ASHR, 16));
            IntVector q5 = IntVector.fromMemorySegment(I8, w, wb + 160, LE);
            IntVector p5 = q5.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 10]).reinterpretAsShorts())
                    .add(q5.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 11]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r5 = p5.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p5.lanewise(VectorOperators.ASHR, 16));
            IntVector q6 = IntVector.fromMemorySegment(I8, w, wb + 192, LE);
            IntVector p6 = q6.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 12]).reinterpretAsShorts())
                    .add(q6.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 13]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r6 = p6.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p6.lanewise(VectorOperators.ASHR, 16));
            IntVector q7 = IntVector.fromMemorySegment(I8, w, wb + 224, LE);
            IntVector p7 = q7.lanewise(VectorOperators.LSHL, 8).reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                    .mul(IntVector.broadcast(I8, act[ab + 14]).reinterpretAsShorts())
                    .add(q7.reinterpretAsShorts().lanewise(VectorOperators.ASHR, 8)
                            .mul(IntVector.broadcast(I8, act[ab + 15]).reinterpretAsShorts()))
                    .reinterpretAsInts();
            IntVector r7 = p7.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(p7.lanewise(VectorOperators.ASHR, 16));
            IntVector sums = r0.add(r1).add(r2.add(r3)).add(r4.add(r5).add(r6.add(r7)));
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
