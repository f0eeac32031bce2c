package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Each weight type's vector dot product against {@link DotReference}, the plain scalar
 * arithmetic, on random rows of several lengths (block counts 1..7 and 11; float rows of odd
 * lengths around the vector length, so the scalar tail runs) and on real rows of the
 * synthetic models. Tolerance: {@link DotReference#tolerance}, i.e. float rounding only.
 */
class DotProductTest {

    private static final int[] FLOAT_LENGTHS = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 255, 257, 1000};
    private static final int[] BLOCK_COUNTS = {1, 2, 3, 4, 5, 7, 11};

    @TestFactory
    Stream<DynamicTest> randomRows() {
        List<DynamicTest> tests = new ArrayList<>();
        for (GgmlType type : GgmlType.values()) {
            if (!WeightFormats.isSupported(type)) {
                continue;
            }
            WeightFormat f = WeightFormats.of(type);
            tests.add(DynamicTest.dynamicTest(type.toString(), () -> {
                Random rnd = new Random(type.id * 7919L);
                int[] lengths = type.blockSize == 1 ? FLOAT_LENGTHS
                        : java.util.Arrays.stream(BLOCK_COUNTS).map(c -> c * type.blockSize).toArray();
                for (int n : lengths) {
                    for (int trial = 0; trial < 4; trial++) {
                        MemorySegment w = DotReference.randomRow(type, n, rnd);
                        float[] x = DotReference.gaussian(n, rnd);
                        if (trial == 3) {
                            java.util.Arrays.fill(x, 0, Math.min(n, type.blockSize == 1 ? n / 2 : type.blockSize), 0f);
                        }
                        check(f, w, 0, x, n, type + " n=" + n + " trial " + trial);
                    }
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> realRowsOfTheSyntheticModels() {
        SharedData.assumePresent();
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : SharedData.dequantModels()) {
            for (SharedData.Tensor t : SharedData.tensors(model)) {
                tests.add(DynamicTest.dynamicTest(t.toString(), () -> {
                    MemorySegment file = SharedData.map(model);
                    WeightFormat f = WeightFormats.require(t.type(), t.name());
                    Random rnd = new Random(t.name().hashCode());
                    for (int r : new int[] {0, 1, t.rows() / 2, t.rows() - 1}) {
                        float[] x = DotReference.gaussian(t.n(), rnd);
                        check(f, file, t.rowOffset(r), x, t.n(), t + " row " + r);
                    }
                }));
            }
        }
        return tests.stream();
    }

    static void check(WeightFormat f, MemorySegment w, long wOff, float[] x, int n, String what) {
        MemorySegment act = Activations.quantize(f.activationType(), x, 0, n);
        float got = f.dot(w, wOff, act, 0, n);
        DotReference.Result ref = DotReference.of(f, w, wOff, act, 0, n);
        double tol = DotReference.tolerance(f, n, ref.magnitude());
        if (ref.magnitude() == 0) {
            assertEquals(0f, got, 0f, what + ": all products are zero");
        }
        assertEquals(ref.value(), got, tol, what);
        // The same product through a non-zero activation offset (rows packed in a batch buffer).
        Activations two = new Activations(f.activationType(), n, 2);
        two.quantize(1, x, 0);
        assertEquals(got, f.dot(w, wOff, two.segment(), two.offset(1), n), 0f, what + " at an offset");
    }
}
