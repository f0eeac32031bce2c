package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The prompt path ({@link RepackedFormat#expandGroup}, {@link RepackedFormat#expandActivation},
 * {@link PanelKernel}) against the exact product of the same quantized numbers, for every
 * token of a batch and every row of a panel: within the float rounding of a sum in blocks
 * ({@link DotReference#tolerance}, as the matrix-vector kernels), since each block's products
 * are summed exactly. Batches that are not a multiple of the kernel's tokens, panels of fewer
 * than sixteen rows (one 8-row group, for the types grouped by eight) and outputs at an offset and stride are included. Q4_K
 * keeps ggml's float order, so its results must equal the matrix-vector kernel's bit for bit.
 */
class PanelKernelTest {

    @ParameterizedTest
    @CsvSource({"Q4_0, 64, 16, 1", "Q4_0, 2048, 16, 7", "Q4_0, 5632, 16, 4", "Q8_0, 256, 16, 9",
            "Q8_0, 2048, 16, 5", "Q8_0, 512, 16, 12", "Q4_K, 256, 16, 5", "Q4_K, 2048, 16, 4", "Q4_K, 5632, 16, 6",
            "Q6_K, 256, 16, 5", "Q6_K, 2048, 16, 4", "Q6_K, 5632, 16, 7"})
    void productsOfEveryTokenAndRow(GgmlType type, int n, int rows, int batch) {
        Random rnd = new Random(n * 7L + rows + batch);
        long rowBytes = type.bytesFor(n);
        MemorySegment w = Arena.ofAuto().allocate(rowBytes * rows);
        for (int r = 0; r < rows; r++) {
            w.asSlice(r * rowBytes, rowBytes).copyFrom(DotReference.randomRow(type, n, rnd));
        }
        float[][] x = new float[batch][];
        for (int t = 0; t < batch; t++) {
            x[t] = DotReference.gaussian(n, rnd);
        }
        assertProducts(type, n, rows, w, x);
    }

    /**
     * Every quant at one extreme and every activation quant at +-127: the largest block sums
     * (Q8_0: 32 * 128 * 127; Q4_K, with every scale and min at 63: 32 * 63 * 15 * 127), which
     * must still be exact in float.
     */
    @ParameterizedTest
    @CsvSource({"Q4_0, 0x00", "Q4_0, 0xFF", "Q8_0, 0x80", "Q8_0, 0x7F", "Q4_K, 0xFF", "Q4_K, 0x00", "Q6_K, 0xFF", "Q6_K, 0x00"})
    void extremeBlockSumsStayExact(GgmlType type, int fill) {
        int n = 512;
        int rows = 16;
        long rowBytes = type.bytesFor(n);
        MemorySegment w = Arena.ofAuto().allocate(rowBytes * rows);
        w.fill((byte) fill);
        for (long blk = 0; blk < w.byteSize(); blk += type.typeSize) {
            for (int field : DotReference.HALF_FIELDS.get(type)) {
                Mem.putF16(w, blk + field, 0.01f);
            }
        }
        float[][] x = new float[5][n];
        for (int t = 0; t < x.length; t++) {
            Arrays.fill(x[t], t % 2 == 0 ? 1 : -1);
        }
        assertProducts(type, n, rows, w, x);
    }

    private static void assertProducts(GgmlType type, int n, int rows, MemorySegment w, float[][] x) {
        WeightFormat plain = WeightFormats.of(type);
        RepackedFormat packed = WeightFormats.repacked(type);
        PanelLayout layout = packed.panelLayout();
        assertTrue(layout != null, type + " goes through panels");
        long rowBytes = plain.rowBytes(n);
        int groupRows = packed.rows();
        MemorySegment p = Arena.ofAuto().allocate(packed.groupBytes(n) * Math.max(1, rows / groupRows), 64);
        float[] panel = new float[PanelKernel.panelFloats(layout, n)];
        for (int g = 0; g * groupRows < rows; g++) {
            packed.repack(w, g * groupRows * rowBytes, rowBytes, p, g * packed.groupBytes(n), n);
            packed.expandGroup(p, g * packed.groupBytes(n), n, panel, g * groupRows);
        }
        int batch = x.length;
        float[] xq = new float[PanelKernel.activationFloats(layout, n, batch)];
        Arrays.fill(xq, Float.NaN); // what padActivations must overwrite
        for (int t = 0; t < batch; t++) {
            packed.expandActivation(x[t], 0, n, xq, PanelKernel.activationOffset(layout, n, t));
        }
        PanelKernel.padActivations(layout, xq, n, batch);
        int stride = rows + 3;
        float[] y = new float[5 + batch * stride];
        Arrays.fill(y, -1f);
        PanelKernel.multiply(layout, panel, n, rows, xq, batch, y, 5, stride);
        int[] acts = new int[packed.activationInts(n)];
        for (int t = 0; t < batch; t++) {
            MemorySegment q = Activations.quantize(plain.activationType(), x[t], 0, n);
            if (layout.mins()) {
                packed.prepareActivation(x[t], 0, n, acts, 0);
                float[] ggml = new float[rows];
                for (int g = 0; g * groupRows < rows; g++) {
                    packed.matvec(p, g * packed.groupBytes(n), acts, 0, n, ggml, g * groupRows);
                }
                for (int r = 0; r < rows; r++) {
                    assertEquals(ggml[r], y[5 + t * stride + r], 0f, type + " token " + t + " row " + r
                            + ": ggml's float order, as the matrix-vector kernel");
                }
            }
            for (int r = 0; r < rows; r++) {
                DotReference.Result ref = DotReference.of(plain, w, r * rowBytes, q, 0, n);
                assertEquals(ref.value(), y[5 + t * stride + r], DotReference.tolerance(plain, n, ref.magnitude()),
                        type + " token " + t + " row " + r + ", n=" + n);
            }
            for (int r = rows; r < stride; r++) {
                assertEquals(-1f, y[5 + t * stride + r], "token " + t + ": nothing written past the panel's rows");
            }
        }
    }
}
