package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Matrix-vector entry points: every row equals its own dot product bit for bit, whether the
 * rows run in one call, in ranges, batched or split over threads (a row is always computed by
 * one {@link WeightFormat#dot} call, so threading cannot change results).
 */
class MatVecTest {

    @Test
    void matmulVariantsEqualPerRowDots() {
        Random rnd = new Random(42);
        int rows = 70;
        int batch = 3;
        for (GgmlType type : GgmlType.values()) {
            if (!WeightFormats.isSupported(type)) {
                continue;
            }
            WeightFormat f = WeightFormats.of(type);
            int n = type.blockSize == 1 ? 96 : 2 * type.blockSize;
            MemorySegment w = DotReference.randomRow(type, n * rows, rnd);
            Activations acts = Activations.forWeights(f, n, batch);
            float[][] x = new float[batch][];
            for (int b = 0; b < batch; b++) {
                x[b] = DotReference.gaussian(n, rnd);
                acts.quantize(b, x[b], 0);
            }
            float[] expected = new float[batch * rows];
            float[] expectedInBatch = new float[batch * rows];
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < rows; r++) {
                    expected[b * rows + r] = f.dot(w, r * f.rowBytes(n), acts.segment(), acts.offset(b), n);
                    expectedInBatch[b * rows + r] = f.dotForBatch(w, r * f.rowBytes(n), acts.segment(), acts.offset(b), n);
                }
            }
            float[] single = new float[rows + 5];
            MatVec.matmul(f, w, 0, rows, n, acts.segment(), acts.offset(1), single, 5);
            for (int r = 0; r < rows; r++) {
                assertEquals(expected[rows + r], single[5 + r], 0f, type + " matmul row " + r);
            }
            float[] one = new float[rows];
            MatVec.matmul(f, w, 0, rows, n, acts.quantize(x[0], 0), one);
            assertArrayEquals(java.util.Arrays.copyOf(expected, rows), one, 0f, type + " matmul");
            float[] batched = new float[batch * rows];
            MatVec.matmulBatch(f, w, 0, rows, n, acts, batch, batched);
            // acts row 0 was re-quantized from x[0] above, so the batch still holds x[0..batch).
            assertArrayEquals(expectedInBatch, batched, 0f, type + " batch");
            float[] flat = new float[batch * n];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(x[b], 0, flat, b * n, n);
            }
            Activations again = Activations.forWeights(f, n, batch);
            again.quantizeRows(flat, 0, batch);
            assertEquals(acts.segment().mismatch(again.segment()), -1L, type + " quantizeRows");
            float[] parallel = new float[rows];
            MatVec.matmulParallel(f, w, 0, rows, n, acts.segment(), acts.offset(2), parallel, 0);
            assertArrayEquals(java.util.Arrays.copyOfRange(expected, 2 * rows, 3 * rows), parallel, 0f,
                    type + " parallel");
        }
    }

    @Test
    void parallelRowsCoverEveryRowOnce() {
        int rows = 1000;
        int[] hits = new int[rows];
        Parallel.rows(rows, 7, (start, end) -> {
            for (int r = start; r < end; r++) {
                synchronized (hits) {
                    hits[r]++;
                }
            }
        });
        for (int r = 0; r < rows; r++) {
            assertEquals(1, hits[r], "row " + r);
        }
    }
}
