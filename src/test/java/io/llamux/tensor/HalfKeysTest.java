package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link HalfKeys#dot} is {@link F16Format#dot} of the query rounded to halves, bit for bit
 * (what flash attention computes for an F16 cache), including a tail past the steps of 32 and
 * magnitudes down to subnormal halves.
 */
class HalfKeysTest {

    @ParameterizedTest
    @ValueSource(ints = {64, 128, 96, 80, 7})
    void sameBitsAsTheF16DotOfTheRoundedQuery(int n) {
        Random rnd = new Random(n);
        WeightFormat f16 = WeightFormats.of(GgmlType.F16);
        MemorySegment k = Arena.ofAuto().allocate(2L * n);
        MemorySegment qh = Arena.ofAuto().allocate(2L * n);
        float[] q = new float[n];
        float[] qf = new float[n];
        for (int round = 0; round < 200; round++) {
            for (int i = 0; i < n; i++) {
                Mem.putF16(k, 2L * i, (float) ((rnd.nextBoolean() ? 1 : -1) * Math.pow(2, rnd.nextDouble() * 24 - 20)));
                q[i] = (float) rnd.nextGaussian() * (round % 2 == 0 ? 1 : 1e-5f);
            }
            new F16Activation().quantize(q, 0, n, qh, 0);
            HalfKeys.roundToHalves(q, 0, n, qf);
            float want = f16.dot(k, 0, qh, 0, n);
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(HalfKeys.dot(k, 0, qf, n)), "n=" + n);
        }
    }
}
