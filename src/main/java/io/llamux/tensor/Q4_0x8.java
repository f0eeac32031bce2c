package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0 weights of sixteen rows interleaved block by block, so that one 32-lane short multiply
 * (AVX-512; two of 16 lanes with AVX2) serves all sixteen rows, with Q8_0 activations held as
 * int16 pairs that are broadcast to them as they are loaded.
 *
 * <p>A group of sixteen rows is, for each block column c (32 weights of every row), at 288c:
 * <pre>
 *   +64k     u16 q[4][32]  vector k, lane 2r+h: elements 8k+4h+j (j = 0..3) of row r's block c
 *                          as the unsigned nibbles (q+8) at bits 4j..4j+3 (rows 0-7 in its first
 *                          32 bytes, an "octet", rows 8-15 in the next)
 *   +256     f16 d[16]     row r's block scale
 * </pre>
 * so a group takes exactly the bytes of its sixteen rows in the file, and can be repacked
 * where it lies. A prepared activation vector of B blocks is, in ints:
 * <pre>
 *   16c+m      m = 4k+j &lt; 16: elements 8k+j (low half) and 8k+4+j (high half) as int16
 *   16B+2c     the Q8_0 scale (the f16-rounded value llama.cpp multiplies by), as float bits
 *   16B+2c+1   8 * the sum of the block's quants: the nibbles' +8 bias, taken out at once
 * </pre>
 * Pair m puts element 8k+4h+j in short lane 2r+h of every row r, against that row's nibble j
 * of vector k. Each short lane adds 16 products nibble*quant, at most 16 * 15 * 127 = 30480 in
 * magnitude, so int16 holds them exactly; a row's two lanes are then added as ints, and its
 * block sums are added in block order. Each pair is one {@code vpbroadcastd} from memory (C2
 * folds the array load into it). The activations were once stored already broadcast, eight
 * times these bytes, to load them as whole vectors: their reads through L1 then outnumbered the
 * weights' two to one, and from memory (a matrix far larger than the caches) a thread streamed
 * 9.4 GB/s of weights; compact, 21 GB/s (Zen 5, one thread, 2048 columns).
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

    static final int ROWS = 16;
    static final int OCTET = 8;
    /** Bytes of one weight vector k of the sixteen rows (of an octet: half). */
    static final int W_VECTOR = 64;
    static final int W_SCALES = 256;
    static final int W_BLOCK = 288;
    static final int A_PAIRS = 16;
    static final int A_SIDE = 2;

    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
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
        return blocks(cols) * (A_PAIRS + A_SIDE);
    }

    /** Element of a block held by short lane {@code lane}, nibble {@code j}, of vector {@code k}. */
    private static int element(int k, int lane, int j) {
        return 8 * k + 4 * (lane & 1) + j;
    }

    /**
     * Writes one block column of eight rows in this layout (four vectors of 32 bytes, vector k
     * at {@code out + stride * (k & 1) + pairStride * (k >> 1)}) from 32 nibbles a row in a
     * file's layout: row r's element
     * e is at bits {@code shift + 4 * (e >> spanBits)} of byte {@code e % 2^spanBits} from
     * {@code first + r * srcRowBytes} (Q4_0: runs of 16, the low nibbles first; a Q4_K
     * sub-block: one run of 32, all at one shift).
     */
    static void interleave(MemorySegment src, long first, long srcRowBytes, int spanBits, int shift,
                           MemorySegment dst, long out, long stride, long pairStride) {
        int span = (1 << spanBits) - 1;
        for (int r = 0; r < OCTET; r++) {
            long row = first + r * srcRowBytes;
            for (int k = 0; k < 4; k++) {
                int e = element(k, 0, 0);
                // Elements 8k..8k+7 are eight consecutive bytes' nibbles: both lanes of the row
                // (h = 0, 1) from one read, written as one int (a 7B model's load was mostly this).
                long x = Mem.i64(src, row + (e & span)) >>> (shift + 4 * (e >> spanBits));
                long t = x & 0x0F0F_0F0F_0F0F_0F0FL;
                t = (t | t >>> 4) & 0x00FF_00FF_00FF_00FFL;
                t = (t | t >>> 8) & 0x0000_FFFF_0000_FFFFL;
                Mem.putI32(dst, out + stride * (k & 1) + pairStride * (k >> 1) + 4L * r, (int) (t | t >>> 16));
            }
        }
    }

    /**
     * The unsigned nibble of element {@code e} of row {@code row} (0..7) of the octet's block at
     * {@code in}, its vectors placed as by {@link #interleave}.
     */
    static int nibble(MemorySegment w, long in, long stride, long pairStride, int row, int e) {
        int k = e / 8;
        int h = (e / 4) & 1;
        return (Mem.u16(w, in + stride * (k & 1) + pairStride * (k >> 1) + 2L * (2 * row + h)) >> (4 * (e & 3))) & 0xF;
    }

    /** The block element whose quant is the low half of activation pair m (its high half: +4). */
    static int pairElement(int m) {
        return 8 * (m / 4) + (m % 4);
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long out = dstOff + (long) c * W_BLOCK;
            for (int o = 0; o < ROWS / OCTET; o++) {
                long first = srcOff + OCTET * o * srcRowBytes + (long) c * Q4_0Format.BYTES;
                for (int r = 0; r < OCTET; r++) {
                    Mem.putI16(dst, out + W_SCALES + 2L * (OCTET * o + r), Mem.i16(src, first + r * srcRowBytes + Q4_0Format.D));
                }
                interleave(src, first + Q4_0Format.QS, srcRowBytes, 4, 0, dst, out + 32L * o, W_VECTOR, 2 * W_VECTOR);
            }
        }
    }

    @Override
    public void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols) {
        for (int c = 0; c < blocks(cols); c++) {
            long in = wOff + (long) c * W_BLOCK;
            float d = Mem.f16(w, in + W_SCALES + 2L * row);
            for (int e = 0; e < Q4_0Format.QK; e++) {
                out[outOff + c * Q4_0Format.QK + e] = (nibble(w, in + 32L * (row / OCTET), W_VECTOR, 2 * W_VECTOR, row % OCTET, e) - 8) * d;
            }
        }
    }

    @Override
    public PanelLayout panelLayout() {
        return PanelLayout.BLOCKS_OF_32;
    }

    /**
     * Measured (512-bit kernels on Zen 4, TinyLlama shape, two threads, tokens/s, token by
     * token against panels): pp8 54.9 / 36.4, pp32 65.8 / 55.8, pp64 60.3 / 56.7, pp128
     * 57.2 / 55.8, pp256 56.8 / 51.6, pp512 48.9 / 39.6; the 7B shape on Zen 5 likewise up to
     * pp64 (pp5 10.3 / 4.2): never panels. The int16 products of sixteen rows a block (see
     * matvec), the group read from L1 for every token of a tile, beat floats at eight times
     * the bytes read from L2.
     */
    @Override
    public int widePanelMinBatch() {
        return Integer.MAX_VALUE;
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
                long wb = wOff + (long) c * W_BLOCK + 32L * o;
                int at = PanelLayout.BLOCKS_OF_32.groupFloats() * c + lane + OCTET * o;
                scales(w, wOff + (long) c * W_BLOCK + W_SCALES + 16L * o).intoArray(panel, at + PanelKernel.ROWS * PanelKernel.QK);
                for (int k = 0; k < 4; k++) {
                    IntVector q = IntVector.fromMemorySegment(I8, w, wb + (long) W_VECTOR * k, LE);
                    int e = at + PanelKernel.ROWS * 8 * k;
                    expandNibbles(q, 0, panel, e);
                    expandNibbles(q, 16, panel, e + PanelKernel.ROWS * 4);
                }
            }
        }
    }

    /** Elements j = 0..3 of a lane half: the nibbles at bits {@code shift + 4j}, less 8. */
    private static void expandNibbles(IntVector q, int shift, float[] panel, int at) {
        for (int j = 0; j < 4; j++) {
            IntVector n = q.lanewise(VectorOperators.LSHR, shift + 4 * j).and(0xF).sub(8);
            ((FloatVector) n.convert(VectorOperators.I2F, 0)).intoArray(panel, at + PanelKernel.ROWS * j);
        }
    }

    /** The eight f16 scales at {@code at} as floats (see the class comment). */
    static FloatVector scales(MemorySegment w, long at) {
        return ((IntVector) ShortVector.fromMemorySegment(S8, w, at, LE).convertShape(VectorOperators.S2I, I8, 0))
                .lanewise(VectorOperators.LSHL, 13).and(0x8FFF_E000).reinterpretAsFloats().mul(0x1p112f);
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        int blocks = blocks(cols);
        int side = dstOff + blocks * A_PAIRS;
        for (int c = 0; c < blocks; c++) {
            int xo = off + c * Q4_0Format.QK;
            int at = dstOff + c * A_PAIRS;
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
            dst[side + A_SIDE * c] = Float.floatToRawIntBits(Q8_0Activation.storedScale(amax));
            dst[side + A_SIDE * c + 1] = 8 * sum;
        }
    }

    // No calls but the Vector API's: a vector that crosses a call C2 did not inline is boxed (an
    // allocation per block). The block's four weight vectors are an inner loop, not written
    // out: written out, the body came near C2's node budget for inlining, and in some compiles
    // (three runs in five of a TinyLlama prompt-then-decode benchmark) the block's last vector
    // operations were left to late inlining, which failed to intrinsify them: a box per
    // operation, decode at 35 tokens/s instead of 50. The loop costs its bounds bookkeeping
    // (in cache 36 against 48 multiply-adds per ns, one thread; from memory 20 against 21-23
    // GB/s), and it always compiles. Nibbles are shifted in int lanes (each int's two shorts
    // at once, the mask clearing what crosses between them): C2 emits short-lane shifts by a
    // constant as a count moved into a register first, one more instruction each.
    private static final int NIBBLES = 0x000F_000F;

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        if (PanelKernel.WIDE) {
            matvecWide(w, wOff, act, actOff, cols, y, yOff);
        } else {
            matvecNarrow(w, wOff, act, actOff, cols, y, yOff);
        }
    }

    /**
     * The sixteen rows as two octets of 256-bit vectors (AVX2), the block's four weight vectors
     * written out: as a loop of four (as matvecWide) C2 compiled a pre-loop and a main loop,
     * each entry re-deriving the segment's bounds and range-checking the activations, as many
     * scalar instructions as vector ones. Written out, one thread took 20.1 GB/s in cache
     * against 14.7 (Zen 4, -Dllamux.simd.bits=256, three processes each), TinyLlama Q4_0 tg64
     * 26-27 tokens/s against 21 (one thread). The 512-bit kernel, bound by its vector operations
     * there, measured the same either way, and stays a loop (see above).
     */
    private static void matvecNarrow(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        int side = actOff + blocks * A_PAIRS;
        FloatVector acc = FloatVector.zero(F8);
        // Constant vectors made once: each .and(int) would inline a broadcast of its own, and the
        // loop body's size at parse time is what C2's inlining budget counts (see above).
        IntVector nibbles = IntVector.broadcast(I8, NIBBLES);
        IntVector halfBits = IntVector.broadcast(I8, 0x8FFF_E000);
        FloatVector acc2 = FloatVector.zero(F8);
        for (int c = 0; c < blocks; c++) {
            long wb = wOff + (long) c * W_BLOCK;

            int ab = actOff + c * A_PAIRS;
            ShortVector s = ShortVector.zero(S16);
            ShortVector s2 = ShortVector.zero(S16);
            long wk0 = wb;
            int ak0 = ab;
            IntVector q0 = IntVector.fromMemorySegment(I8, w, wk0, LE);
            IntVector r0 = IntVector.fromMemorySegment(I8, w, wk0 + 32, LE);
            ShortVector a00 = IntVector.broadcast(I8, act[ak0]).reinterpretAsShorts();
            s = s.add(q0.and(nibbles).reinterpretAsShorts().mul(a00));
            s2 = s2.add(r0.and(nibbles).reinterpretAsShorts().mul(a00));
            ShortVector a10 = IntVector.broadcast(I8, act[ak0 + 1]).reinterpretAsShorts();
            s = s.add(q0.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a10));
            s2 = s2.add(r0.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a10));
            ShortVector a20 = IntVector.broadcast(I8, act[ak0 + 2]).reinterpretAsShorts();
            s = s.add(q0.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a20));
            s2 = s2.add(r0.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a20));
            ShortVector a30 = IntVector.broadcast(I8, act[ak0 + 3]).reinterpretAsShorts();
            s = s.add(q0.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a30));
            s2 = s2.add(r0.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a30));
            long wk1 = wb + W_VECTOR;
            int ak1 = ab + 4;
            IntVector q1 = IntVector.fromMemorySegment(I8, w, wk1, LE);
            IntVector r1 = IntVector.fromMemorySegment(I8, w, wk1 + 32, LE);
            ShortVector a01 = IntVector.broadcast(I8, act[ak1]).reinterpretAsShorts();
            s = s.add(q1.and(nibbles).reinterpretAsShorts().mul(a01));
            s2 = s2.add(r1.and(nibbles).reinterpretAsShorts().mul(a01));
            ShortVector a11 = IntVector.broadcast(I8, act[ak1 + 1]).reinterpretAsShorts();
            s = s.add(q1.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a11));
            s2 = s2.add(r1.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a11));
            ShortVector a21 = IntVector.broadcast(I8, act[ak1 + 2]).reinterpretAsShorts();
            s = s.add(q1.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a21));
            s2 = s2.add(r1.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a21));
            ShortVector a31 = IntVector.broadcast(I8, act[ak1 + 3]).reinterpretAsShorts();
            s = s.add(q1.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a31));
            s2 = s2.add(r1.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a31));
            long wk2 = wb + 2 * W_VECTOR;
            int ak2 = ab + 8;
            IntVector q2 = IntVector.fromMemorySegment(I8, w, wk2, LE);
            IntVector r2 = IntVector.fromMemorySegment(I8, w, wk2 + 32, LE);
            ShortVector a02 = IntVector.broadcast(I8, act[ak2]).reinterpretAsShorts();
            s = s.add(q2.and(nibbles).reinterpretAsShorts().mul(a02));
            s2 = s2.add(r2.and(nibbles).reinterpretAsShorts().mul(a02));
            ShortVector a12 = IntVector.broadcast(I8, act[ak2 + 1]).reinterpretAsShorts();
            s = s.add(q2.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a12));
            s2 = s2.add(r2.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a12));
            ShortVector a22 = IntVector.broadcast(I8, act[ak2 + 2]).reinterpretAsShorts();
            s = s.add(q2.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a22));
            s2 = s2.add(r2.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a22));
            ShortVector a32 = IntVector.broadcast(I8, act[ak2 + 3]).reinterpretAsShorts();
            s = s.add(q2.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a32));
            s2 = s2.add(r2.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a32));
            long wk3 = wb + 3 * W_VECTOR;
            int ak3 = ab + 12;
            IntVector q3 = IntVector.fromMemorySegment(I8, w, wk3, LE);
            IntVector r3 = IntVector.fromMemorySegment(I8, w, wk3 + 32, LE);
            ShortVector a03 = IntVector.broadcast(I8, act[ak3]).reinterpretAsShorts();
            s = s.add(q3.and(nibbles).reinterpretAsShorts().mul(a03));
            s2 = s2.add(r3.and(nibbles).reinterpretAsShorts().mul(a03));
            ShortVector a13 = IntVector.broadcast(I8, act[ak3 + 1]).reinterpretAsShorts();
            s = s.add(q3.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a13));
            s2 = s2.add(r3.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts().mul(a13));
            ShortVector a23 = IntVector.broadcast(I8, act[ak3 + 2]).reinterpretAsShorts();
            s = s.add(q3.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a23));
            s2 = s2.add(r3.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts().mul(a23));
            ShortVector a33 = IntVector.broadcast(I8, act[ak3 + 3]).reinterpretAsShorts();
            s = s.add(q3.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a33));
            s2 = s2.add(r3.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts().mul(a33));
            FloatVector scale = FloatVector.broadcast(F8, Float.intBitsToFloat(act[side + A_SIDE * c]));
            IntVector bias = IntVector.broadcast(I8, act[side + A_SIDE * c + 1]);
            IntVector pairs = s.reinterpretAsInts();
            IntVector sums = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs.lanewise(VectorOperators.ASHR, 16)).sub(bias);
            // Sign-extended, shifted to the float's exponent field, bits 28..30 cleared: d * 2^-112.
            FloatVector d = ((IntVector) ShortVector.fromMemorySegment(S8, w, wb + W_SCALES, LE)
                    .convertShape(VectorOperators.S2I, I8, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats();
            acc = ((FloatVector) sums.convert(VectorOperators.I2F, 0)).mul(scale).fma(d, acc);
            IntVector pairs2 = s2.reinterpretAsInts();
            IntVector sums2 = pairs2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs2.lanewise(VectorOperators.ASHR, 16)).sub(bias);
            FloatVector d2 = ((IntVector) ShortVector.fromMemorySegment(S8, w, wb + W_SCALES + 16, LE)
                    .convertShape(VectorOperators.S2I, I8, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats();
            acc2 = ((FloatVector) sums2.convert(VectorOperators.I2F, 0)).mul(scale).fma(d2, acc2);
        }
        acc.mul(0x1p112f).intoArray(y, yOff);
        acc2.mul(0x1p112f).intoArray(y, yOff + OCTET);
    }

    /** The sixteen rows in one 512-bit vector (AVX-512): half the instructions of the octets. */
    private static void matvecWide(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        int side = actOff + blocks * A_PAIRS;
        FloatVector acc = FloatVector.zero(F16);
        IntVector nibbles = IntVector.broadcast(I16, NIBBLES);
        IntVector halfBits = IntVector.broadcast(I16, 0x8FFF_E000);
        for (int c = 0; c < blocks; c++) {
            long wb = wOff + (long) c * W_BLOCK;
            int ab = actOff + c * A_PAIRS;
            ShortVector s = ShortVector.zero(S32);
            for (int k = 0; k < 4; k++) {
                int ak = ab + 4 * k;
                IntVector q = IntVector.fromMemorySegment(I16, w, wb + (long) W_VECTOR * k, LE);
                s = s.add(q.and(nibbles).reinterpretAsShorts()
                        .mul(IntVector.broadcast(I16, act[ak]).reinterpretAsShorts()));
                s = s.add(q.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts()
                        .mul(IntVector.broadcast(I16, act[ak + 1]).reinterpretAsShorts()));
                s = s.add(q.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts()
                        .mul(IntVector.broadcast(I16, act[ak + 2]).reinterpretAsShorts()));
                s = s.add(q.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts()
                        .mul(IntVector.broadcast(I16, act[ak + 3]).reinterpretAsShorts()));
            }
            FloatVector scale = FloatVector.broadcast(F16, Float.intBitsToFloat(act[side + A_SIDE * c]));
            IntVector pairs = s.reinterpretAsInts();
            IntVector sums = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs.lanewise(VectorOperators.ASHR, 16)).sub(act[side + A_SIDE * c + 1]);
            FloatVector d = ((IntVector) ShortVector.fromMemorySegment(S16, w, wb + W_SCALES, LE)
                    .convertShape(VectorOperators.S2I, I16, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats();
            acc = ((FloatVector) sums.convert(VectorOperators.I2F, 0)).mul(scale).fma(d, acc);
        }
        acc.mul(0x1p112f).intoArray(y, yOff);
    }
}
