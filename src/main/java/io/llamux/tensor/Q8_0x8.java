package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q8_0 weights of sixteen rows interleaved four quants at a time, so that one short multiply
 * serves all sixteen rows (AVX-512; eight, an octet, with AVX2), with Q8_0 activations held as
 * int16 pairs that are broadcast to them (as {@link Q4_0x8}).
 *
 * <p>A group of sixteen rows is, for each block column c (32 weights of every row):
 * <pre>
 *   544c+64k+4r  i8  q[4]   quants 4k..4k+3 of row r's block c, as in the file (k = 0..7)
 *   544c+512     f16 d[16]  row r's block scale
 * </pre>
 * so a group takes exactly the bytes of its eight rows in the file, and can be repacked where
 * it lies; the quants move as whole 32-bit words. Short lane 2r+h of vector k holds quants
 * 4k+2h (low byte) and 4k+2h+1 (high byte) of row r. A prepared activation vector of B blocks
 * is, in ints, each pair of int16 broadcast to the eight int lanes as it is loaded (as in
 * {@link Q4_0x8}):
 * <pre>
 *   24c+2k+b     elements 4k+b (low half) and 4k+2+b (high half) as int16 (b = 0, 1)
 *   24c+16+k     vector k's bias: 32768 - 128 (a[4k] + a[4k+1]) (low half), -128 (a[4k+2] + a[4k+3])
 *   24B+c        the Q8_0 scale (the f16-rounded value llama.cpp multiplies by), as float bits
 * </pre>
 *
 * <p>A product of two quants reaches 128 * 127 = 16256 in magnitude (a file may hold -128), so
 * a short lane holds two exactly (32512), not Q4_0x8's sixteen: each vector's pair of products
 * per lane is widened at once. The bytes are taken as unsigned, quant + 128 (flipping their
 * top bits and masking is cheaper than sign-extending them: C2 shifts short lanes by a count
 * register, one more instruction each), and the bias puts the +128 back, modulo 2^16, which
 * leaves the exact pair sum s since it fits. The bias also adds 32768 to the low short, so
 * that it is s_lo + 32768 in [0, 65535] unsigned: the lane's int is then exactly 65536 s_hi +
 * s_lo + 32768, s_hi is that int shifted right, and a block's eight ints and eight s_hi are
 * summed as they are; 65536 (sum of s_hi) and 8 * 32768 come off at the end, in int arithmetic
 * modulo 2^32, which is exact because the result, the exact int sum per row and block that
 * ggml computes, fits. Measured in cache, that is 8% faster than sign-extending and widening
 * each pair with three shifts, and as fast as Q4_0x8 per block. Splitting quants into nibbles for
 * two Q4_0x8 passes would take two multiplies and the nibble unpacking per quant pair where
 * this takes one. The scales are widened as in {@link Q4_0x8}, in units of 2^-112.
 */
final class Q8_0x8 implements RepackedFormat {

    static final int ROWS = 16;
    static final int OCTET = 8;
    static final int W_BLOCK = ROWS * Q8_0Format.BYTES;
    static final int W_SCALES = ROWS * Q8_0Format.QK;
    static final int W_VECTOR = 4 * ROWS;
    static final int A_PAIRS = 24;
    static final int A_BIAS = 16;
    static final int A_SIDE = 1;

    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    // The matvec's width: a part of sixteen rows in 512-bit vectors, or two octets in 256-bit.
    private static final int PARTS = PanelKernel.WIDE ? 1 : 2;
    private static final VectorSpecies<Integer> IV = PanelKernel.WIDE ? IntVector.SPECIES_512 : I8;
    private static final VectorSpecies<Float> FV = PanelKernel.WIDE ? FloatVector.SPECIES_512 : F8;
    private static final VectorSpecies<Short> SH = PanelKernel.WIDE ? ShortVector.SPECIES_256 : S8;
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
        return blocks(cols) * (A_PAIRS + A_SIDE);
    }

    /** Where quant {@code e} of row {@code r} lies in a repacked block. */
    private static int offset(int r, int e) {
        return W_VECTOR * (e / 4) + 4 * r + (e % 4);
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
    public PanelLayout panelLayout() {
        return PanelLayout.BLOCKS_OF_32;
    }

    /**
     * Measured (512-bit kernels on Zen 4, TinyLlama shape, two threads, tokens/s, token by
     * token against panels): pp4 29.7 / 17.1, pp8 39.3 / 30.6, pp12 35.8 / 35.7, pp16 39.6 / 44.5.
     */
    @Override
    public int widePanelMinBatch() {
        return 12;
    }

    @Override
    public void expandActivation(float[] x, int off, int cols, float[] out, int outOff) {
        Q8_0Activation.expand(x, off, cols, out, outOff, PanelKernel.TOKENS);
    }

    @Override
    public void expandGroup(MemorySegment w, long wOff, int cols, float[] panel, int lane) {
        int blocks = blocks(cols);
        for (int c = 0; c < blocks; c++) {
            for (int o = 0; o < ROWS / OCTET; o++) {
                expandOctet(w, wOff + (long) c * W_BLOCK, o, panel, PanelLayout.BLOCKS_OF_32.groupFloats() * c + lane + OCTET * o);
            }
        }
    }

    /** Rows 8o..8o+7 of the block column at {@code wb}, into the panel at {@code at}. */
    private static void expandOctet(MemorySegment w, long wb, int o, float[] panel, int at) {
        Q4_0x8.scales(w, wb + W_SCALES + 16L * o).intoArray(panel, at + PanelKernel.ROWS * PanelKernel.QK);
        for (int k = 0; k < 8; k++) {
            IntVector q = IntVector.fromMemorySegment(I8, w, wb + (long) W_VECTOR * k + 32L * o, LE);
            // Byte b of each int lane, sign-extended: quant 4k+b of each row.
            for (int b = 0; b < 4; b++) {
                IntVector v = q.lanewise(VectorOperators.LSHL, 24 - 8 * b).lanewise(VectorOperators.ASHR, 24);
                ((FloatVector) v.convert(VectorOperators.I2F, 0))
                        .intoArray(panel, at + PanelKernel.ROWS * (4 * k + b));
            }
        }
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        int blocks = blocks(cols);
        int side = dstOff + blocks * A_PAIRS;
        for (int c = 0; c < blocks; c++) {
            int xo = off + c * Q8_0Format.QK;
            int at = dstOff + c * A_PAIRS;
            float amax = Q8_0Activation.amax(x, xo);
            float id = Q8_0Activation.inverseScale(amax);
            for (int k = 0; k < 8; k++) {
                int q0 = Q8_0Activation.quant(id, x[xo + 4 * k]);
                int q1 = Q8_0Activation.quant(id, x[xo + 4 * k + 1]);
                int q2 = Q8_0Activation.quant(id, x[xo + 4 * k + 2]);
                int q3 = Q8_0Activation.quant(id, x[xo + 4 * k + 3]);
                dst[at + 2 * k] = (q0 & 0xFFFF) | (q2 << 16);
                dst[at + 2 * k + 1] = (q1 & 0xFFFF) | (q3 << 16);
                dst[at + A_BIAS + k] = ((0x8000 - 128 * (q0 + q1)) & 0xFFFF) | (-128 * (q2 + q3) << 16);
            }
            dst[side + A_SIDE * c] = Float.floatToRawIntBits(Q8_0Activation.storedScale(amax));
        }
    }

    // Written out, with no calls but the Vector API's, the block's eight weight vectors four at a
    // time (see Q4_0x8: all eight at once is more than C1 can compile, which leaves the method
    // boxing in tier 2), as one flat loop over half-blocks (see Q6_Kx8).
    private static final int TOP_BITS = 0x8080_8080;
    private static final int LOW_BYTES = 0x00FF_00FF;
    private static final int LOW_BIASES = 8 * 0x8000;

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        for (int p = 0; p < PARTS; p++) {
            matvecPart(w, wOff, p, act, actOff, cols, y, yOff);
        }
    }

    /** Part p's rows: all sixteen in 512-bit vectors, or octet p in 256-bit ones. */
    private static void matvecPart(MemorySegment w, long wOff, int p, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        int side = actOff + blocks * A_PAIRS;
        FloatVector acc = FloatVector.zero(FV);
        // Constant vectors made once (see Q4_0x8: the loop body's size at parse time is what C2's
        // inlining budget counts).
        IntVector topBits = IntVector.broadcast(IV, TOP_BITS);
        IntVector lowBytes = IntVector.broadcast(IV, LOW_BYTES);
        IntVector halfBits = IntVector.broadcast(IV, 0x8FFF_E000);
        IntVector ints = IntVector.zero(IV);
        IntVector highs = IntVector.zero(IV);
        int halves = 2 * blocks;
        for (int g = 0; g < halves; g++) {
            int c = g >> 1;
            int h = g & 1;
            long wb = wOff + (long) c * W_BLOCK;
            int ab = actOff + c * A_PAIRS;
            long wh = wb + 4L * W_VECTOR * h + 32L * p;
            int ah = ab + 8 * h;
            int bh = ab + A_BIAS + 4 * h;
            IntVector u0 = IntVector.fromMemorySegment(IV, w, wh + 0, LE).lanewise(VectorOperators.XOR, topBits);
            IntVector p0 = u0.and(lowBytes).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[ah + 0]).reinterpretAsShorts())
                    .add(u0.lanewise(VectorOperators.LSHR, 8).and(lowBytes).reinterpretAsShorts()
                            .mul(IntVector.broadcast(IV, act[ah + 1]).reinterpretAsShorts()))
                    .add(IntVector.broadcast(IV, act[bh + 0]).reinterpretAsShorts())
                    .reinterpretAsInts();
            IntVector u1 = IntVector.fromMemorySegment(IV, w, wh + W_VECTOR, LE).lanewise(VectorOperators.XOR, topBits);
            IntVector p1 = u1.and(lowBytes).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[ah + 2]).reinterpretAsShorts())
                    .add(u1.lanewise(VectorOperators.LSHR, 8).and(lowBytes).reinterpretAsShorts()
                            .mul(IntVector.broadcast(IV, act[ah + 3]).reinterpretAsShorts()))
                    .add(IntVector.broadcast(IV, act[bh + 1]).reinterpretAsShorts())
                    .reinterpretAsInts();
            IntVector u2 = IntVector.fromMemorySegment(IV, w, wh + 2 * W_VECTOR, LE).lanewise(VectorOperators.XOR, topBits);
            IntVector p2 = u2.and(lowBytes).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[ah + 4]).reinterpretAsShorts())
                    .add(u2.lanewise(VectorOperators.LSHR, 8).and(lowBytes).reinterpretAsShorts()
                            .mul(IntVector.broadcast(IV, act[ah + 5]).reinterpretAsShorts()))
                    .add(IntVector.broadcast(IV, act[bh + 2]).reinterpretAsShorts())
                    .reinterpretAsInts();
            IntVector u3 = IntVector.fromMemorySegment(IV, w, wh + 3 * W_VECTOR, LE).lanewise(VectorOperators.XOR, topBits);
            IntVector p3 = u3.and(lowBytes).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[ah + 6]).reinterpretAsShorts())
                    .add(u3.lanewise(VectorOperators.LSHR, 8).and(lowBytes).reinterpretAsShorts()
                            .mul(IntVector.broadcast(IV, act[ah + 7]).reinterpretAsShorts()))
                    .add(IntVector.broadcast(IV, act[bh + 3]).reinterpretAsShorts())
                    .reinterpretAsInts();
            ints = ints.add(p0.add(p1).add(p2.add(p3)));
            highs = highs.add(p0.lanewise(VectorOperators.ASHR, 16).add(p1.lanewise(VectorOperators.ASHR, 16))
                    .add(p2.lanewise(VectorOperators.ASHR, 16).add(p3.lanewise(VectorOperators.ASHR, 16))));
            if (h == 1) {
                IntVector sums = ints.sub(highs.lanewise(VectorOperators.LSHL, 16)).add(highs).sub(LOW_BIASES);
                // Sign-extended, shifted to the float's exponent field, bits 28..30 cleared: d * 2^-112.
                FloatVector d = ((IntVector) ShortVector.fromMemorySegment(SH, w, wb + W_SCALES + 16L * p, LE)
                        .convertShape(VectorOperators.S2I, IV, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats();
                acc = ((FloatVector) sums.convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.broadcast(FV, Float.intBitsToFloat(act[side + A_SIDE * c])))
                        .fma(d, acc);
                ints = IntVector.zero(IV);
                highs = IntVector.zero(IV);
            }
        }
        acc.mul(0x1p112f).intoArray(y, yOff + OCTET * p);
    }
}
