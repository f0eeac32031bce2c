package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every repacked layout against the file-layout format it came from, on a group of random rows:
 * the same weights back (exactly), and each row's product equal to the exact product of the
 * same quantized numbers within the float rounding of its summation
 * ({@link DotReference#tolerance}: one rounding per block and per scale product).
 */
class RepackedFormatTest {

    private static final GgmlType[] TYPES = {GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_0};

    @ParameterizedTest
    @ValueSource(ints = {32, 224, 256, 512, 2048, 5632})
    void sameWeightsAndProducts(int n) {
        for (GgmlType type : TYPES) {
            if (n % type.blockSize != 0) {
                continue;
            }
            Random rnd = new Random(n * 31L + type.id);
            long rowBytes = type.bytesFor(n);
            MemorySegment w = Arena.ofAuto().allocate(rowBytes * WeightFormats.repacked(type).rows());
            for (long at = 0; at < w.byteSize(); at += rowBytes) {
                w.asSlice(at, rowBytes).copyFrom(DotReference.randomRow(type, n, rnd));
            }
            assertSameWeightsAndProducts(type, n, w, DotReference.gaussian(n, rnd));
        }
    }

    /**
     * Every quant byte at one extreme and every activation quant at +-127: the largest partial
     * sums a layout's narrow lanes must hold (Q8_0x8's short lanes: 2 * 128 * 127 = 32512;
     * Q4_Kx8's, with every 6-bit scale and min at 63 too, 4 * 15 * 127 and its int lanes).
     */
    @ParameterizedTest
    @ValueSource(ints = {0x80, 0x7F, 0x00, 0xFF})
    void extremeQuantsStayExact(int fill) {
        int n = 512;
        for (GgmlType type : TYPES) {
            long rowBytes = type.bytesFor(n);
            MemorySegment w = Arena.ofAuto().allocate(rowBytes * WeightFormats.repacked(type).rows());
            w.fill((byte) fill);
            for (long blk = 0; blk < w.byteSize(); blk += type.typeSize) {
                for (int field : DotReference.HALF_FIELDS.get(type)) {
                    Mem.putF16(w, blk + field, 0.01f);
                }
            }
            for (float sign : new float[] {1, -1}) {
                float[] x = new float[n];
                java.util.Arrays.fill(x, sign);
                assertSameWeightsAndProducts(type, n, w, x);
            }
        }
    }

    /** Repacks the rows at {@code w} and checks them and their products with {@code x}. */
    private static void assertSameWeightsAndProducts(GgmlType type, int n, MemorySegment w, float[] x) {
        WeightFormat plain = WeightFormats.of(type);
        RepackedFormat packed = WeightFormats.repacked(type);
        int rows = packed.rows();
        long rowBytes = plain.rowBytes(n);
        MemorySegment p = Arena.ofAuto().allocate(packed.groupBytes(n), 64);
        packed.repack(w, 0, rowBytes, p, 0, n);

        // At an offset: a layout must not depend on where its vector starts.
        int[] acts = new int[packed.activationInts(n) + 3];
        packed.prepareActivation(x, 0, n, acts, 3);
        float[] y = new float[rows + 5];
        packed.matvec(p, 0, acts, 3, n, y, 5);
        MemorySegment q = Activations.quantize(plain.activationType(), x, 0, n);
        for (int r = 0; r < rows; r++) {
            float[] expected = new float[n];
            plain.dequantize(w, r * rowBytes, expected, 0, n);
            float[] back = new float[n];
            packed.dequantizeRow(p, 0, r, back, 0, n);
            assertArrayEquals(expected, back, 0f, type + " row " + r + " after repacking, n=" + n);

            DotReference.Result ref = DotReference.of(plain, w, r * rowBytes, q, 0, n);
            assertEquals(ref.value(), y[5 + r], DotReference.tolerance(plain, n, ref.magnitude()),
                    type + " row " + r + " product, n=" + n);
        }
    }
}
