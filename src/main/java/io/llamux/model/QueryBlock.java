package io.llamux.model;

import io.llamux.tensor.GgmlType;
import io.llamux.tensor.WeightFormat;
import io.llamux.tensor.WeightFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One worker's state for flash attention over a few consecutive prompt tokens of one head:
 * each query's online softmax (running max and sum, the value accumulator), and the key and
 * value rows of the position being read, widened once for all of them.
 */
final class QueryBlock {
    /** Tokens per block: enough to share each widened row, few enough to stay in L1. */
    static final int QUERIES = 4;
    static final WeightFormat HALF = WeightFormats.of(GgmlType.F16);

    final float[][] query;
    final MemorySegment[] queryHead;
    final float[][] acc;
    final float[] max = new float[QUERIES];
    final float[] sum = new float[QUERIES];
    final float[] key;
    final float[] value;

    /** For heads of {@code headDim}; {@code queryBytes} of a query head in the key type's partner format. */
    QueryBlock(int headDim, long queryBytes) {
        query = new float[QUERIES][headDim];
        acc = new float[QUERIES][headDim];
        queryHead = new MemorySegment[QUERIES];
        Arena arena = Arena.ofAuto();
        for (int i = 0; i < QUERIES; i++) {
            queryHead[i] = arena.allocate(queryBytes, 64);
        }
        key = new float[headDim];
        value = new float[headDim];
    }
}
