package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K weights of sixteen rows interleaved, each sub-block of 32 laid out as a {@link Q4_0x8}
 * block (one short multiply serves all sixteen rows with AVX-512, eight with AVX2), with Q8_K
 * activations held as int16 pairs that are broadcast to them. The bulk of Q4_K_M files.
 *
 * <p>A group of sixteen rows is, for each super-block b (256 weights of every row), at 2304b:
 * <pre>
 *   +0              u32 sc[2][16]  word w, lane r: byte i = row r's scale 4w+i (bits 0-5) and
 *                                  the top 2 bits of its min 4w+i (bits 6-7)
 *   +128            u32 mn[16]     lane r: byte i = the low 4 bits of row r's mins i and 4+i
 *   +192            f16 d[16]      row r's super-block scale
 *   +224            f16 dmin[16]   row r's super-block min scale
 *   +256+1024(k/2)  u16 q[32]      sub-block s, vector k, lane 2r+h: elements 8k+4h+j (j = 0..3)
 *    +128s+64(k%2)                 of row r's sub-block s as nibbles at bits 4j (as Q4_0x8; rows
 *                                  0-7, an octet, in the first 32 bytes, rows 8-15 in the next)
 * </pre>
 * in the order the kernel reads them: the fields, then vectors 0-1 of every sub-block, then
 * vectors 2-3, so that memory is read front to back once (see matvec).
 * so a group takes exactly the bytes of its sixteen rows in the file, and can be repacked where
 * it lies (the daemon's copy of a Q4_K_M model then needs no second copy of most of it). The
 * 6-bit scales stay packed, but each in the low bits of a byte of its row's int lane: the
 * inner loop takes a sub-block's scales with one shift and one mask; the mins, once per
 * super-block, with a few more. The kernels take the sixteen rows as one part of 512-bit
 * vectors (AVX-512) or two octets of 256-bit ones (AVX2), the same code at either width.
 *
 * <p>A prepared activation vector (Q8_K, quantized as llama.cpp does) is, for each
 * super-block b, 137 ints, each broadcast to the int lanes as it is loaded (see
 * {@link Q4_0x8}): at 137b+16s+m sub-block s's pair m as {@link Q4_0x8}'s of a block; at
 * 137b+128+s the sum of sub-block s's quants; at 137b+136 the scale, as float bits.
 *
 * <p>The sums are ggml's (ggml_vec_dot_q4_K_q8_K, AVX2), exactly, in its float order too (see
 * matvec): a short lane adds the 4 products nibble*quant of one of ggml's int lanes in one
 * sub-block, at most 4 * 15 * 127 = 7620 in magnitude; a row's int lane, over the 8 sub-blocks
 * times their scales (at most 63), at most 8 * 63 * 7620 = 3.84e6, and a min lane 2 * 63 *
 * (32 * 127) = 5.1e5: inside int32, and below 2^24, so their float conversions are exact, as
 * ggml's. d and dmin are widened as in {@link Q4_0x8} and multiplied back by 2^112, which
 * gives their values exactly.
 */
final class Q4_Kx8 implements RepackedFormat {

    static final int ROWS = 16;
    static final int OCTET = 8;
    static final int QK = Q4_KFormat.QK;
    static final int SUB = 32;
    static final int W_SCALES = 0;
    static final int W_MINS = 128;
    static final int W_D = 192;
    static final int W_DMIN = 224;
    static final int W_QUANTS = 256;
    /** From one half of the quants (vectors 0-1 of every sub-block) to the other (2-3). */
    static final int W_HALF = 1024;
    static final int W_SUB = 128;
    static final int W_VECTOR = 64;
    static final int W_BLOCK = 2304;
    static final int A_SUB = 16;
    static final int A_SUMS = 128;
    static final int A_SCALE = 136;
    static final int A_BLOCK = 137;

    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    // The matvec's width: a part of sixteen rows in 512-bit vectors, or two octets in 256-bit.
    private static final int PARTS = PanelKernel.WIDE ? 1 : 2;
    private static final VectorSpecies<Integer> IV = PanelKernel.WIDE ? IntVector.SPECIES_512 : I8;
    private static final VectorSpecies<Float> FV = PanelKernel.WIDE ? FloatVector.SPECIES_512 : F8;
    /** f16 halves, as many as IV has lanes. */
    private static final VectorSpecies<Short> SH = PanelKernel.WIDE ? ShortVector.SPECIES_256 : S8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public int rows() {
        return ROWS;
    }

    private static int blocks(int cols) {
        Mem.checkBlocks(GgmlType.Q4_K, cols);
        return cols / QK;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) blocks(cols) * W_BLOCK;
    }

    @Override
    public int activationInts(int cols) {
        return blocks(cols) * A_BLOCK;
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols) {
        for (int b = 0; b < blocks(cols); b++) {
            long out = dstOff + (long) b * W_BLOCK;
            long first = srcOff + (long) b * Q4_KFormat.BYTES;
            for (int o = 0; o < ROWS / OCTET; o++) {
                for (int s = 0; s < 8; s++) {
                    Q4_0x8.interleave(src, first + OCTET * o * srcRowBytes + Q4_KFormat.QS + 32 * (s >> 1), srcRowBytes,
                            5, 4 * (s & 1), dst, out + W_QUANTS + (long) W_SUB * s + 32L * o, W_VECTOR, W_HALF);
                }
            }
            for (int r = 0; r < ROWS; r++) {
                long blk = first + r * srcRowBytes;
                long sc = blk + Q4_KFormat.SCALES;
                int lowMins = 0;
                for (int w = 0; w < 2; w++) {
                    int word = 0;
                    for (int i = 0; i < 4; i++) {
                        int s = 4 * w + i;
                        int min = Q4_KFormat.min(src, sc, s);
                        word |= (Q4_KFormat.scale(src, sc, s) | (min >> 4) << 6) << (8 * i);
                        lowMins |= (min & 0xF) << (8 * i + 4 * w);
                    }
                    Mem.putI32(dst, out + W_SCALES + 64L * w + 4L * r, word);
                }
                Mem.putI32(dst, out + W_MINS + 4L * r, lowMins);
                Mem.putI16(dst, out + W_D + 2L * r, Mem.i16(src, blk + Q4_KFormat.D));
                Mem.putI16(dst, out + W_DMIN + 2L * r, Mem.i16(src, blk + Q4_KFormat.DMIN));
            }
        }
    }

    /** Row {@code r}'s scale ({@code min == false}) or min of sub-block {@code s}. */
    private static int field(MemorySegment w, long in, int r, int s, boolean min) {
        int packed = Mem.u8(w, in + W_SCALES + 64L * (s >> 2) + 4L * r + (s & 3));
        if (!min) {
            return packed & 63;
        }
        int low = Mem.u8(w, in + W_MINS + 4L * r + (s & 3)) >> (4 * (s >> 2));
        return (low & 0xF) | (packed >> 6) << 4;
    }

    @Override
    public void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols) {
        for (int b = 0; b < blocks(cols); b++) {
            long in = wOff + (long) b * W_BLOCK;
            // The file format's float operations, so the weights come back bit for bit.
            float d = Mem.f16(w, in + W_D + 2L * row);
            float dmin = Mem.f16(w, in + W_DMIN + 2L * row);
            for (int s = 0; s < 8; s++) {
                float dl = d * field(w, in, row, s, false);
                float ml = dmin * field(w, in, row, s, true);
                int o = outOff + b * QK + SUB * s;
                for (int e = 0; e < SUB; e++) {
                    out[o + e] = dl * Q4_0x8.nibble(w, in + W_QUANTS + (long) W_SUB * s + 32L * (row / OCTET), W_VECTOR, W_HALF, row % OCTET, e) - ml;
                }
            }
        }
    }

    @Override
    public PanelLayout panelLayout() {
        return PanelLayout.Q4_K;
    }

    /**
     * Measured (512-bit kernels on Zen 4, TinyLlama-shaped Q4_K_M, two threads, tokens/s, token
     * by token against panels): pp16 49.3 / 43.1, pp24 45.6 / 41.0, pp32 47.2 / 46.6, pp48
     * 48.3 / 48.8, pp64 48.2 / 54.9.
     */
    @Override
    public int widePanelMinBatch() {
        return 32;
    }

    /** Where element {@code 32 s + 4 l + j} of a super-block lies in a panel's: ggml's int lane l first. */
    private static int panelElement(int s, int l, int j) {
        return PanelKernel.QK * l + 4 * s + j;
    }

    @Override
    public void expandGroup(MemorySegment w, long wOff, int cols, float[] panel, int lane) {
        for (int o = 0; o < ROWS / OCTET; o++) {
            expandOctet(w, wOff, o, cols, panel, lane + OCTET * o);
        }
    }

    /** expandGroup's rows 8o..8o+7, into panel rows {@code lane..lane+7}. */
    private static void expandOctet(MemorySegment w, long wOff, int o, int cols, float[] panel, int lane) {
        int groupFloats = PanelLayout.Q4_K.groupFloats();
        int side = PanelKernel.ROWS * QK;
        for (int b = 0; b < blocks(cols); b++) {
            // The u32 fields' and the quants' octet o lies 32 o bytes in, the f16 fields' 16 o.
            long halves = wOff + (long) b * W_BLOCK + 16L * o;
            long wb = wOff + (long) b * W_BLOCK + 32L * o;
            int at = groupFloats * b + lane;
            for (int s = 0; s < 8; s++) {
                IntVector scales = IntVector.fromMemorySegment(I8, w, wb + W_SCALES + 64L * (s >> 2), LE)
                        .lanewise(VectorOperators.LSHR, 8 * (s & 3)).and(63);
                for (int k = 0; k < 4; k++) {
                    IntVector q = IntVector.fromMemorySegment(I8, w,
                            wb + W_QUANTS + (long) W_HALF * (k >> 1) + (long) W_SUB * s + (long) W_VECTOR * (k & 1), LE);
                    for (int h = 0; h < 2; h++) {
                        for (int j = 0; j < 4; j++) {
                            IntVector n = q.lanewise(VectorOperators.LSHR, 16 * h + 4 * j).and(0xF).mul(scales);
                            ((FloatVector) n.convert(VectorOperators.I2F, 0))
                                    .intoArray(panel, at + PanelKernel.ROWS * panelElement(s, 2 * k + h, j));
                        }
                    }
                }
            }
            Q4_0x8.scales(w, halves + W_D).intoArray(panel, at + side);
            IntVector low = IntVector.fromMemorySegment(I8, w, wb + W_MINS, LE);
            IntVector lo = low.and(LOW_MINS).or(IntVector.fromMemorySegment(I8, w, wb + W_SCALES, LE)
                    .lanewise(VectorOperators.LSHR, 2).and(TOP_MINS));
            IntVector hi = low.lanewise(VectorOperators.LSHR, 4).and(LOW_MINS).or(IntVector.fromMemorySegment(I8, w, wb + W_SCALES + 64, LE)
                    .lanewise(VectorOperators.LSHR, 2).and(TOP_MINS));
            for (int s = 0; s < 8; s++) {
                IntVector m = (s < 4 ? lo : hi).lanewise(VectorOperators.LSHR, 8 * (s & 3)).and(0xFF);
                ((FloatVector) m.convert(VectorOperators.I2F, 0))
                        .intoArray(panel, at + side + PanelKernel.ROWS * (1 + s));
            }
            Q4_0x8.scales(w, halves + W_DMIN).intoArray(panel, at + side + PanelKernel.ROWS * 9);
        }
    }

    @Override
    public void expandActivation(float[] x, int off, int cols, float[] out, int outOff) {
        int step = PanelKernel.TOKENS;
        int blocks = blocks(cols);
        for (int b = 0; b < blocks; b++) {
            int xo = off + b * QK;
            int at = outOff + step * QK * b;
            int side = outOff + step * (cols + PanelLayout.Q4_K.actSide() * b);
            float iscale = Q8_KActivation.inverseScale(x, xo); // exactly Q8_KActivation's quants
            out[side] = iscale == 0 ? 0 : 1 / iscale;
            for (int s = 0; s < 8; s++) {
                int sum = 0;
                for (int l = 0; l < 8; l++) {
                    for (int j = 0; j < 4; j++) {
                        int q = iscale == 0 ? 0 : Q8_KActivation.quant(iscale, x[xo + SUB * s + 4 * l + j]);
                        out[at + step * panelElement(s, l, j)] = q;
                        sum += q;
                    }
                }
                out[side + step * (1 + s)] = sum;
            }
        }
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        for (int b = 0; b < blocks(cols); b++) {
            int xo = off + b * QK;
            int at = dstOff + b * A_BLOCK;
            float iscale = Q8_KActivation.inverseScale(x, xo); // exactly Q8_KActivation's quants
            if (iscale == 0) {
                java.util.Arrays.fill(dst, at, at + A_BLOCK, 0);
                continue;
            }
            for (int s = 0; s < 8; s++) {
                int xs = xo + SUB * s;
                int sum = 0;
                for (int m = 0; m < 16; m++) {
                    int e = Q4_0x8.pairElement(m);
                    int lo = Q8_KActivation.quant(iscale, x[xs + e]);
                    int hi = Q8_KActivation.quant(iscale, x[xs + e + 4]);
                    dst[at + A_SUB * s + m] = (lo & 0xFFFF) | (hi << 16);
                    sum += lo + hi;
                }
                dst[at + A_SUMS + s] = sum;
            }
            dst[at + A_SCALE] = Float.floatToRawIntBits(1 / iscale);
        }
    }

    // Written out, with no calls but the Vector API's (see Q4_0x8): one sub-block per iteration
    // of the inner loop. Its scale shift is not a constant (a shift by a register, one
    // instruction more than by a constant), which keeps the body one sub-block long.
    //
    // The float operations are ggml's (ggml_vec_dot_q4_K_q8_K, AVX2), row by row in the lanes:
    // its eight int lanes, lane l the elements 4l..4l+3 of every sub-block times their scales
    // (here vector k's short lanes 2r+h give lane 2k+h of row r), each converted and added by
    // FMA times da*d into float lane l per super-block; its four min lanes likewise, times
    // -da*dmin; then its horizontal sums. The results are then ggml's bit for bit: on the
    // near-flat logits of a synthetic model, any other order flips an activation quant now and
    // then and moves logits by 1e-2 (the golden README: "Repacking alone changes Q4_K logits by
    // ~1e-2"), which GoldenLogitsTest's teacher-forced steps catch. The price, measured (one
    // thread, TinyLlama shape): 5.1 tokens/s against 8.5 for the same layout with one int sum
    // and one float FMA per row and super-block.
    //
    // The eight lanes take two halves of each super-block in turn, vectors 0-1 (lanes 0-3) and
    // 2-3 (lanes 4-7), each with four int accumulators, and then its mins: one half's code in
    // the loop body, not both, which was more than C1 could compile with AVX2's sixteen
    // registers ("out of virtual registers in linear scan"), and left the method in tier 2,
    // boxing. The float sums live in a per-thread scratch, lane l of row r at 16 l + r, the min
    // lanes after them, loaded and stored once per half super-block (beside 128 multiplies).
    // Passes over the whole row for each half and for the mins instead read memory three times
    // in strides, and streamed 7 GB/s from DRAM against the 25-30 this kernel does from L3.
    private static final int NIBBLES = 0x000F_000F;
    private static final int LOW_MINS = 0x0F0F_0F0F;
    private static final int TOP_MINS = 0x3030_3030;
    private static final int MIN_LANES = 8 * ROWS;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[12 * ROWS]);

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        float[] lanes = LANES.get();
        java.util.Arrays.fill(lanes, 0);
        for (int p = 0; p < PARTS; p++) {
            sums(w, wOff, p, act, actOff, blocks, lanes);
            sumLanes(lanes, p, y, yOff);
        }
    }

    /**
     * hsum_float_8 of ggml's eight lanes of part {@code p}'s rows plus (m0 + m2) + (m1 + m3) of
     * its four min lanes, into y.
     */
    private static void sumLanes(float[] lanes, int p, float[] y, int yOff) {
        int r = OCTET * p;
        FloatVector m = FloatVector.fromArray(FV, lanes, MIN_LANES + r)
                .add(FloatVector.fromArray(FV, lanes, MIN_LANES + 2 * ROWS + r))
                .add(FloatVector.fromArray(FV, lanes, MIN_LANES + ROWS + r)
                        .add(FloatVector.fromArray(FV, lanes, MIN_LANES + 3 * ROWS + r)));
        FloatVector f0 = FloatVector.fromArray(FV, lanes, r);
        FloatVector f1 = FloatVector.fromArray(FV, lanes, ROWS + r);
        FloatVector f2 = FloatVector.fromArray(FV, lanes, 2 * ROWS + r);
        FloatVector f3 = FloatVector.fromArray(FV, lanes, 3 * ROWS + r);
        FloatVector f4 = FloatVector.fromArray(FV, lanes, 4 * ROWS + r);
        FloatVector f5 = FloatVector.fromArray(FV, lanes, 5 * ROWS + r);
        FloatVector f6 = FloatVector.fromArray(FV, lanes, 6 * ROWS + r);
        FloatVector f7 = FloatVector.fromArray(FV, lanes, 7 * ROWS + r);
        f0.add(f4).add(f2.add(f6)).add(f1.add(f5).add(f3.add(f7))).add(m).intoArray(y, yOff + r);
    }

    /**
     * ggml's float lanes and min lanes of part {@code p}'s rows (all sixteen, or octet p) added
     * into {@code lanes}, super-block by super-block: lanes 4h..4h+3 from weight vectors 2h and
     * 2h+1, then acc_m: min lane m += -da*dmin * (min[2m]*sum[2m] + min[2m+1]*sum[2m+1]).
     */
    private static void sums(MemorySegment w, long wOff, int p, int[] act, int actOff, int blocks, float[] lanes) {
        // Constant vectors made once (see Q4_0x8: the loop body's size at parse time is what C2's
        // inlining budget counts).
        IntVector nibbles = IntVector.broadcast(IV, NIBBLES);
        IntVector sixBits = IntVector.broadcast(IV, 63);
        IntVector halfBits = IntVector.broadcast(IV, 0x8FFF_E000);
        IntVector lowMins = IntVector.broadcast(IV, LOW_MINS);
        IntVector topMins = IntVector.broadcast(IV, TOP_MINS);
        IntVector bytes = IntVector.broadcast(IV, 0xFF);
        long wPart = wOff + 32L * p;
        long dPart = wOff + W_D + 16L * p;
        int r = OCTET * p;
        for (int b = 0; b < blocks; b++) {
            long wb = wPart + (long) b * W_BLOCK;
            int ab = actOff + b * A_BLOCK;
            FloatVector da = FloatVector.broadcast(FV, Float.intBitsToFloat(act[ab + A_SCALE]));
            for (int h = 0; h < 2; h++) {
                IntVector i0 = IntVector.zero(IV);
                IntVector i1 = i0;
                IntVector i2 = i0;
                IntVector i3 = i0;
                for (int s = 0; s < 8; s++) {
                    long ws = wb + W_QUANTS + (long) W_HALF * h + (long) W_SUB * s;
                    int as = ab + 8 * h + A_SUB * s;
                    IntVector scales = IntVector.fromMemorySegment(IV, w, wb + W_SCALES + 64L * (s >> 2), LE)
                            .lanewise(VectorOperators.LSHR, 8 * (s & 3)).and(sixBits);
                    IntVector q0 = IntVector.fromMemorySegment(IV, w, ws, LE);
                    IntVector q1 = IntVector.fromMemorySegment(IV, w, ws + W_VECTOR, LE);
                    ShortVector p0 = q0.and(nibbles).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[as]).reinterpretAsShorts())
                            .add(q0.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 1]).reinterpretAsShorts()))
                            .add(q0.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 2]).reinterpretAsShorts()))
                            .add(q0.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 3]).reinterpretAsShorts()));
                    IntVector x0 = p0.reinterpretAsInts();
                    i0 = i0.add(x0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).mul(scales));
                    i1 = i1.add(x0.lanewise(VectorOperators.ASHR, 16).mul(scales));
                    ShortVector p1 = q1.and(nibbles).reinterpretAsShorts().mul(IntVector.broadcast(IV, act[as + 4]).reinterpretAsShorts())
                            .add(q1.lanewise(VectorOperators.LSHR, 4).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 5]).reinterpretAsShorts()))
                            .add(q1.lanewise(VectorOperators.LSHR, 8).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 6]).reinterpretAsShorts()))
                            .add(q1.lanewise(VectorOperators.LSHR, 12).and(nibbles).reinterpretAsShorts()
                                    .mul(IntVector.broadcast(IV, act[as + 7]).reinterpretAsShorts()));
                    IntVector x1 = p1.reinterpretAsInts();
                    i2 = i2.add(x1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).mul(scales));
                    i3 = i3.add(x1.lanewise(VectorOperators.ASHR, 16).mul(scales));
                }
                // Sign-extended, shifted to the float's exponent field, bits 28..30 cleared: d * 2^-112,
                // which times 2^112 is d exactly.
                FloatVector d = ((IntVector) ShortVector.fromMemorySegment(SH, w, dPart + (long) b * W_BLOCK, LE)
                        .convertShape(VectorOperators.S2I, IV, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats()
                        .mul(0x1p112f).mul(da);
                int at = 4 * ROWS * h + r;
                ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(FV, lanes, at))
                        .intoArray(lanes, at);
                ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(FV, lanes, at + ROWS))
                        .intoArray(lanes, at + ROWS);
                ((FloatVector) i2.convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(FV, lanes, at + 2 * ROWS))
                        .intoArray(lanes, at + 2 * ROWS);
                ((FloatVector) i3.convert(VectorOperators.I2F, 0)).fma(d, FloatVector.fromArray(FV, lanes, at + 3 * ROWS))
                        .intoArray(lanes, at + 3 * ROWS);
            }
            // Byte i of lo (hi): min i (4+i), its low bits from mn, its top two from sc's bits 6-7.
            IntVector low = IntVector.fromMemorySegment(IV, w, wb + W_MINS, LE);
            IntVector lo = low.and(lowMins).or(IntVector.fromMemorySegment(IV, w, wb + W_SCALES, LE)
                    .lanewise(VectorOperators.LSHR, 2).and(topMins));
            IntVector hi = low.lanewise(VectorOperators.LSHR, 4).and(lowMins).or(IntVector.fromMemorySegment(IV, w, wb + W_SCALES + 64, LE)
                    .lanewise(VectorOperators.LSHR, 2).and(topMins));
            int am = ab + A_SUMS;
            IntVector p0 = lo.and(bytes).mul(IntVector.broadcast(IV, act[am])).add(lo.lanewise(VectorOperators.LSHR, 8).and(bytes).mul(IntVector.broadcast(IV, act[am + 1])));
            IntVector p1 = lo.lanewise(VectorOperators.LSHR, 16).and(bytes).mul(IntVector.broadcast(IV, act[am + 2]))
                    .add(lo.lanewise(VectorOperators.LSHR, 24).mul(IntVector.broadcast(IV, act[am + 3])));
            IntVector p2 = hi.and(bytes).mul(IntVector.broadcast(IV, act[am + 4])).add(hi.lanewise(VectorOperators.LSHR, 8).and(bytes).mul(IntVector.broadcast(IV, act[am + 5])));
            IntVector p3 = hi.lanewise(VectorOperators.LSHR, 16).and(bytes).mul(IntVector.broadcast(IV, act[am + 6]))
                    .add(hi.lanewise(VectorOperators.LSHR, 24).mul(IntVector.broadcast(IV, act[am + 7])));
            // As d: widened exactly.
            FloatVector dmin = ((IntVector) ShortVector.fromMemorySegment(SH, w, dPart + (W_DMIN - W_D) + (long) b * W_BLOCK, LE)
                    .convertShape(VectorOperators.S2I, IV, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(halfBits).reinterpretAsFloats()
                    .mul(0x1p112f).mul(da.neg());
            int m = MIN_LANES + r;
            ((FloatVector) p0.convert(VectorOperators.I2F, 0)).fma(dmin, FloatVector.fromArray(FV, lanes, m))
                    .intoArray(lanes, m);
            ((FloatVector) p1.convert(VectorOperators.I2F, 0)).fma(dmin, FloatVector.fromArray(FV, lanes, m + ROWS))
                    .intoArray(lanes, m + ROWS);
            ((FloatVector) p2.convert(VectorOperators.I2F, 0)).fma(dmin, FloatVector.fromArray(FV, lanes, m + 2 * ROWS))
                    .intoArray(lanes, m + 2 * ROWS);
            ((FloatVector) p3.convert(VectorOperators.I2F, 0)).fma(dmin, FloatVector.fromArray(FV, lanes, m + 3 * ROWS))
                    .intoArray(lanes, m + 3 * ROWS);
        }
    }
}
