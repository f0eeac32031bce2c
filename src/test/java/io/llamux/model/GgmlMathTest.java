package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class GgmlMathTest {
    @Test
    void polynomialExpIsWithinTwoUlpsAndSaturatesLikeGgml() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextDouble() * 200 - 100);
            float exact = (float) Math.exp(x);
            float got = GgmlMath.expf(x);
            if (exact == 0f || Float.isInfinite(exact) || exact < Float.MIN_NORMAL) {
                continue;
            }
            assertTrue(Math.abs(got - exact) <= 2 * Math.ulp(exact), "expf(" + x + ") = " + got + ", exp = " + exact);
        }
        assertEquals(1f, GgmlMath.expf(0f));
        assertEquals(0f, GgmlMath.expf(Float.NEGATIVE_INFINITY));
        assertEquals(0f, GgmlMath.expf(-200f));
        assertEquals(Float.POSITIVE_INFINITY, GgmlMath.expf(200f));
    }

    @Test
    void vectorExpGivesTheScalarBitsInEveryLane() {
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[8];
        float[] v = new float[8];
        for (int i = 0; i < 50_000; i++) {
            for (int l = 0; l < 8; l++) {
                x[l] = (float) (r.nextDouble() * (i % 10 == 0 ? 300 : 40) - (i % 10 == 0 ? 150 : 30));
            }
            GgmlMath.expf(FloatVector.fromArray(FloatVector.SPECIES_256, x, 0)).intoArray(v, 0);
            for (int l = 0; l < 8; l++) {
                assertEquals(Float.floatToIntBits(GgmlMath.expf(x[l])), Float.floatToIntBits(v[l]), "lane " + l + " x=" + x[l]);
            }
        }
    }

    @Test
    void softmaxSumsToOneAndMasksInfinities() {
        float[] s = {1f, 2f, 3f, 0.5f, -1f, 2f, 0f, 1f, 4f, 3f, Float.NEGATIVE_INFINITY};
        GgmlMath.softmax(s, s.length);
        double sum = 0;
        for (float p : s) {
            sum += p;
        }
        assertEquals(1.0, sum, 1e-6);
        assertEquals(0f, s[10]);
        assertTrue(s[8] > s[2] && s[2] > s[1]);
    }

    @Test
    void swigluIsSiluOfTheGateTimesUp() {
        int n = 19; // two vector groups and a scalar tail
        float[] gate = new float[n];
        float[] up = new float[n];
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (i - 9) * 0.7f;
            up[i] = 1.5f - i * 0.1f;
            expected[i] = (float) (gate[i] / (1 + Math.exp(-gate[i])) * up[i]);
        }
        GgmlMath.swiglu(gate, up, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], gate[i], 1e-6f * Math.max(1f, Math.abs(expected[i])), "element " + i);
        }
    }
}
