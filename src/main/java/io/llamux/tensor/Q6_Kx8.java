package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q6_K weights of sixteen rows interleaved, each quant widened to a signed byte, so that the
 * 6-bit fields are unpacked once at load time instead of in every product (the file layout
 * costs some ten vector operations per eight products; this one about two). The layout is a
 * quarter larger than the file's, so it always goes to new memory; Q6_K is the output head of
 * most Q4_0 and Q4_K_M files and a few other tensors of the latter.
 *
 * <p>A group of sixteen rows is, for each super-block b (256 weights of every row):
 * <pre>
 *   4416b         f32 d[16]          row r's super-block scale, widened from f16
 *   4416b+64      i8  scale[16][16]  group s's scale of row r
 *   4416b+320     i8  q[16][8][32]   group s, vector j, lane 2r+h: quant - 32 of element 16s+j+8h of row r
 * </pre>
 * (rows 0-7, an octet, in the first half of each field's run, for AVX2's 256-bit kernel). The
 * scales lead, so that memory is read front to back: after the quants, as they were, each
 * group's scales were a read 4 KB ahead of its quants, and one thread streamed 17 GB/s from
 * DRAM against 29.6 now (in cache 65 either way).
 * and a prepared activation vector (Q8_K, quantized as llama.cpp does) of B super-blocks is,
 * in ints, for super-block b, at 128b+8s+j (group s, j &lt; 8) elements 16s+j (low half) and
 * 16s+j+8 (high half) as int16, the pair broadcast to the eight int lanes as it is loaded (as in
 * Q4_0x8), and at 128B+b the scale as float bits. Pair 8s+j puts in short lane 2r+h the
 * element that lane holds of every row. A lane adds 8 products of at most 32 * 127 in
 * magnitude (32512: int16 holds it exactly); a row's two lanes are added as ints, times the
 * group scale, into the super-block's exact int sum, as ggml computes it.
 */
final class Q6_Kx8 implements RepackedFormat {

    static final int ROWS = 16;
    static final int OCTET = 8;
    static final int QK = Q6_KFormat.QK;
    /** Bytes of one vector j of a group: two quants of each row. */
    static final int W_VECTOR = 2 * ROWS;
    static final int W_GROUP = 8 * W_VECTOR;
    static final int W_D = 0;
    static final int W_SCALES = W_D + 4 * ROWS;
    static final int W_QUANTS = W_SCALES + 16 * ROWS;
    static final int W_BLOCK = W_QUANTS + 16 * W_GROUP;
    static final int A_PAIRS = 128;
    static final int A_SIDE = 1;

    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    // The matvec's width: a part of sixteen rows in 512-bit vectors, or two octets in 256-bit.
    private static final int PARTS = PanelKernel.WIDE ? 1 : 2;
    private static final VectorSpecies<Integer> IV = PanelKernel.WIDE ? IntVector.SPECIES_512 : I8;
    private static final VectorSpecies<Float> FV = PanelKernel.WIDE ? FloatVector.SPECIES_512 : F8;
    private static final VectorSpecies<Short> SQ = PanelKernel.WIDE ? ShortVector.SPECIES_512 : S16;
    private static final VectorSpecies<Byte> BQ = PanelKernel.WIDE ? ByteVector.SPECIES_256 : B16;
    private static final VectorSpecies<Byte> BS = PanelKernel.WIDE ? ByteVector.SPECIES_128 : B8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public int rows() {
        return ROWS;
    }

    private static int blocks(int cols) {
        Mem.checkBlocks(GgmlType.Q6_K, cols);
        return cols / QK;
    }

    @Override
    public long groupBytes(int cols) {
        return (long) blocks(cols) * W_BLOCK;
    }

    @Override
    public int activationInts(int cols) {
        return blocks(cols) * (A_PAIRS + A_SIDE);
    }

    @Override
    public void repack(MemorySegment src, long srcOff, long srcRowBytes, MemorySegment dst, long dstOff, int cols) {
        for (int b = 0; b < blocks(cols); b++) {
            long out = dstOff + (long) b * W_BLOCK;
            for (int r = 0; r < ROWS; r++) {
                long blk = srcOff + r * srcRowBytes + (long) b * Q6_KFormat.BYTES;
                Mem.putF32(dst, out + W_D + 4L * r, Mem.f16(src, blk + Q6_KFormat.D));
                for (int s = 0; s < 16; s++) {
                    Mem.putI8(dst, out + W_SCALES + (long) ROWS * s + r, Mem.i8(src, blk + Q6_KFormat.SCALES + s));
                    for (int e = 0; e < 16; e++) {
                        int j = e & 7;
                        int h = e >> 3;
                        Mem.putI8(dst, out + W_QUANTS + (long) W_GROUP * s + (long) W_VECTOR * j + 2 * r + h, Q6_KFormat.quant(src, blk, s, e) - 32);
                    }
                }
            }
        }
    }

    @Override
    public void dequantizeRow(MemorySegment w, long wOff, int row, float[] out, int outOff, int cols) {
        for (int b = 0; b < blocks(cols); b++) {
            long in = wOff + (long) b * W_BLOCK;
            float d = Mem.f32(w, in + W_D + 4L * row);
            for (int s = 0; s < 16; s++) {
                float dl = d * Mem.i8(w, in + W_SCALES + (long) ROWS * s + row);
                for (int e = 0; e < 16; e++) {
                    out[outOff + b * QK + 16 * s + e] = dl * Mem.i8(w, in + W_QUANTS + (long) W_GROUP * s + (long) W_VECTOR * (e & 7) + 2 * row + (e >> 3));
                }
            }
        }
    }

    @Override
    public PanelLayout panelLayout() {
        return PanelLayout.Q6_K;
    }

    /** As {@link Q4_Kx8#widePanelMinBatch} (measured in Q4_K_M files, a fifth of whose bytes are Q6_K). */
    @Override
    public int widePanelMinBatch() {
        return 32;
    }

    @Override
    public void expandGroup(MemorySegment w, long wOff, int cols, float[] panel, int lane) {
        int groupFloats = PanelLayout.Q6_K.groupFloats();
        for (int b = 0; b < blocks(cols); b++) {
            for (int o = 0; o < ROWS / OCTET; o++) {
                expandOctet(w, wOff + (long) b * W_BLOCK, o, panel, groupFloats * b + lane + OCTET * o);
            }
        }
    }

    /** Rows 8o..8o+7 of the super-block at {@code wb}, into the panel at {@code at}. */
    private static void expandOctet(MemorySegment w, long wb, int o, float[] panel, int at) {
        for (int s = 0; s < 16; s++) {
            IntVector scales = (IntVector) ByteVector.fromMemorySegment(B8, w, wb + W_SCALES + (long) ROWS * s + OCTET * o, LE)
                    .convertShape(VectorOperators.B2I, I8, 0);
            for (int j = 0; j < 8; j++) {
                // Int lane r: row r's two bytes, elements 16s+j (low) and 16s+j+8 (high).
                IntVector pair = (IntVector) ShortVector.fromMemorySegment(S8, w,
                        wb + W_QUANTS + (long) W_GROUP * s + (long) W_VECTOR * j + 2L * OCTET * o, LE)
                        .convertShape(VectorOperators.S2I, I8, 0);
                IntVector lo = pair.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24);
                IntVector hi = pair.lanewise(VectorOperators.ASHR, 8);
                ((FloatVector) lo.mul(scales).convert(VectorOperators.I2F, 0))
                        .intoArray(panel, at + PanelKernel.ROWS * (16 * s + j));
                ((FloatVector) hi.mul(scales).convert(VectorOperators.I2F, 0))
                        .intoArray(panel, at + PanelKernel.ROWS * (16 * s + j + 8));
            }
        }
        FloatVector.fromMemorySegment(F8, w, wb + W_D + 4L * OCTET * o, LE).intoArray(panel, at + PanelKernel.ROWS * QK);
    }

    @Override
    public void expandActivation(float[] x, int off, int cols, float[] out, int outOff) {
        int step = PanelKernel.TOKENS;
        for (int b = 0; b < blocks(cols); b++) {
            int xo = off + b * QK;
            float iscale = Q8_KActivation.inverseScale(x, xo); // exactly Q8_KActivation's quants
            for (int e = 0; e < QK; e++) {
                out[outOff + step * (QK * b + e)] = iscale == 0 ? 0 : Q8_KActivation.quant(iscale, x[xo + e]);
            }
            out[outOff + step * (cols + b)] = iscale == 0 ? 0 : 1 / iscale;
        }
    }

    @Override
    public void prepareActivation(float[] x, int off, int cols, int[] dst, int dstOff) {
        int blocks = blocks(cols);
        int side = dstOff + blocks * A_PAIRS;
        for (int b = 0; b < blocks; b++) {
            int xo = off + b * QK;
            int at = dstOff + b * A_PAIRS;
            float iscale = Q8_KActivation.inverseScale(x, xo); // exactly Q8_KActivation's quants
            if (iscale == 0) {
                java.util.Arrays.fill(dst, at, at + A_PAIRS, 0);
                dst[side + A_SIDE * b] = 0;
                continue;
            }
            for (int s = 0; s < 16; s++) {
                for (int j = 0; j < 8; j++) {
                    int lo = Q8_KActivation.quant(iscale, x[xo + 16 * s + j]);
                    int hi = Q8_KActivation.quant(iscale, x[xo + 16 * s + j + 8]);
                    dst[at + 8 * s + j] = (lo & 0xFFFF) | (hi << 16);
                }
            }
            dst[side + A_SIDE * b] = Float.floatToRawIntBits(1 / iscale);
        }
    }

    // Written out, with no calls but the Vector API's (see Q4_0x8): one group of 16 per iteration,
    // of one flat loop over the row's groups, the super-block's scale taken at every 16th. A loop
    // over the groups nested in one over the super-blocks streamed 8.4 GB/s from memory against
    // 26 in cache (one thread): C2 turned the inner loop's long range checks into clamped bounds
    // recomputed at each entry, some thirty scalar instructions a super-block; flat, 13 GB/s (and
    // 31 against 24 multiply-adds per ns in cache).

    @Override
    public void matvec(MemorySegment w, long wOff, int[] act, int actOff, int cols, float[] y, int yOff) {
        for (int p = 0; p < PARTS; p++) {
            matvecPart(w, wOff, p, act, actOff, cols, y, yOff);
        }
    }

    /** Part p's rows: all sixteen in 512-bit vectors, or octet p in 256-bit ones. */
    private static void matvecPart(MemorySegment w, long wOff, int part, int[] act, int actOff, int cols, float[] y, int yOff) {
        int blocks = blocks(cols);
        int side = actOff + blocks * A_PAIRS;
        FloatVector acc = FloatVector.zero(FV);
        IntVector sum = IntVector.zero(IV);
        int groups = 16 * blocks;
        for (int g = 0; g < groups; g++) {
            int b = g >> 4;
            int s = g & 15;
            long wb = wOff + (long) b * W_BLOCK;
            long ws = wb + W_QUANTS + (long) W_GROUP * s + 2L * OCTET * part;
            int as = actOff + 8 * g;
            ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws, LE)
                    .convertShape(VectorOperators.B2S, SQ, 0))
                    .mul(IntVector.broadcast(IV, act[as]).reinterpretAsShorts())
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 1]).reinterpretAsShorts()))
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 2 * W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 2]).reinterpretAsShorts()))
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 3 * W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 3]).reinterpretAsShorts()));
            ShortVector p1 = ((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 4 * W_VECTOR, LE)
                    .convertShape(VectorOperators.B2S, SQ, 0))
                    .mul(IntVector.broadcast(IV, act[as + 4]).reinterpretAsShorts())
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 5 * W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 5]).reinterpretAsShorts()))
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 6 * W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 6]).reinterpretAsShorts()))
                    .add(((ShortVector) ByteVector.fromMemorySegment(BQ, w, ws + 7 * W_VECTOR, LE)
                            .convertShape(VectorOperators.B2S, SQ, 0))
                            .mul(IntVector.broadcast(IV, act[as + 7]).reinterpretAsShorts()));
            IntVector pairs = p.add(p1).reinterpretAsInts();
            IntVector rowSums = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                    .add(pairs.lanewise(VectorOperators.ASHR, 16));
            IntVector scales = (IntVector) ByteVector.fromMemorySegment(BS, w, wb + W_SCALES + (long) ROWS * s + OCTET * part, LE)
                    .convertShape(VectorOperators.B2I, IV, 0);
            sum = sum.add(rowSums.mul(scales));
            if (s == 15) {
                acc = FloatVector.fromMemorySegment(FV, w, wb + W_D + 4L * OCTET * part, LE).mul(FloatVector.broadcast(FV, Float.intBitsToFloat(act[side + A_SIDE * b])))
                        .fma((FloatVector) sum.convert(VectorOperators.I2F, 0), acc);
                sum = IntVector.zero(IV);
            }
        }
        acc.intoArray(y, yOff + OCTET * part);
    }
}
