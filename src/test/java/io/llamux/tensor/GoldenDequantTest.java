package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Dequantized rows against ggml's reference dequantizers (../shared/golden/dequant, computed
 * with gguf-py's numpy port at the golden llama.cpp commit), for every tensor listed there.
 *
 * <p>Tolerances: both sides evaluate the same float32 expression per element (e.g. Q4_K
 * {@code (d*sc)*q - dmin*m}, no fused multiply-add) on the same f16 scales, so elements must
 * agree exactly (a zero of either sign counts as equal), and they do for every listed row. The
 * row sums are float64 sums over every row of the tensor, taken on
 * the golden side in numpy's pairwise order and here left to right; with elements equal, the
 * two differ only by float64 summation rounding, below 1e-12 of the sum of magnitudes; the
 * check uses 1e-9 of the magnitude (far tighter than the README's 1e-5).
 */
class GoldenDequantTest {

    @TestFactory
    Stream<DynamicTest> everyListedRowEqualsGolden() {
        SharedData.assumePresent();
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : SharedData.dequantModels()) {
            MemorySegment file = SharedData.map(model);
            for (SharedData.Tensor t : SharedData.tensors(model)) {
                tests.add(DynamicTest.dynamicTest(t.toString(), () -> checkRows(file, t)));
            }
        }
        return tests.stream();
    }

    private static void checkRows(MemorySegment file, SharedData.Tensor t) {
        WeightFormat f = WeightFormats.require(t.type(), t.name());
        float[] row = new float[t.n()];
        JsonNode rows = t.json().get("rows");
        assertTrue(rows.size() > 0, "golden lists rows");
        for (Iterator<Map.Entry<String, JsonNode>> it = rows.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int r = Integer.parseInt(e.getKey());
            JsonNode want = e.getValue();
            assertEquals(t.n(), want.size(), "golden row length");
            f.dequantize(file, t.rowOffset(r), row, 0, t.n());
            for (int i = 0; i < t.n(); i++) {
                float expected = (float) want.get(i).asDouble();
                assertTrue(row[i] == expected,
                        () -> t + " row " + r + " element mismatch: " + java.util.Arrays.toString(
                                firstMismatch(row, want)));
            }
        }
        JsonNode sums = t.json().get("row_sums");
        assertEquals(t.rows(), sums.size(), "one golden sum per row");
        for (int r = 0; r < t.rows(); r++) {
            f.dequantize(file, t.rowOffset(r), row, 0, t.n());
            double sum = 0;
            double magnitude = 0;
            for (float v : row) {
                sum += v;
                magnitude += Math.abs(v);
            }
            double expected = sums.get(r).asDouble();
            assertEquals(expected, sum, 1e-9 * magnitude + 1e-30, t + " row " + r + " sum");
        }
    }

    private static double[] firstMismatch(float[] row, JsonNode want) {
        for (int i = 0; i < row.length; i++) {
            if (row[i] != (float) want.get(i).asDouble()) {
                return new double[] {i, row[i], want.get(i).asDouble()};
            }
        }
        return new double[0];
    }

    /** The goldens cover every weight type Llamux supports, so no format goes unchecked. */
    @Test
    void goldensCoverEverySupportedType() {
        SharedData.assumePresent();
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        for (String model : SharedData.dequantModels()) {
            for (SharedData.Tensor t : SharedData.tensors(model)) {
                seen.add(t.type());
            }
        }
        for (GgmlType type : GgmlType.values()) {
            if (WeightFormats.isSupported(type)) {
                assertTrue(seen.contains(type), type + " has no dequantization golden");
            }
        }
    }
}
