package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Quantize-then-dequantize properties of the activation formats. Blocks mix magnitudes (1e-4
 * to 1e3), include an all-zero block, a block with one huge outlier and exact ties.
 */
class ActivationQuantTest {

    private static float[] input(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double scale = Math.pow(10, -4 + 7 * ((i / 32) % 8) / 7.0);
            x[i] = (float) (rnd.nextGaussian() * scale);
        }
        java.util.Arrays.fill(x, 32, 64, 0f); // an all-zero Q8_0/Q8_1 block (and part of a Q8_K block)
        x[70] = 5000f; // an outlier that sets its block's scale
        x[96] = 127f; // with amax 127 the multiplier is exactly 1: the rest are exact ties
        for (int i = 97; i < 128; i++) {
            x[i] = (i - 112) + 0.5f;
        }
        return x;
    }

    /** Q8_0: |x - q*d| stays within half a step, widened by the f16 rounding of d. */
    @Test
    void q8_0RoundTripWithinHalfAStep() {
        checkQ8Blocks(GgmlType.Q8_0, Q8_0Format.BYTES, Q8_0Format.D, Q8_0Format.QS);
    }

    @Test
    void q8_1RoundTripAndSumField() {
        checkQ8Blocks(GgmlType.Q8_1, Q8_1Activation.BYTES, Q8_1Activation.D, Q8_1Activation.QS);
        int n = 1024;
        float[] x = input(n, 2);
        MemorySegment q = Activations.quantize(GgmlType.Q8_1, x, 0, n);
        for (int b = 0; b < n / 32; b++) {
            long blk = (long) b * Q8_1Activation.BYTES;
            double amax = 0;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * b + j]));
                sum += Mem.i8(q, blk + Q8_1Activation.QS + j);
            }
            double exact = amax / 127 * sum;
            double s = Mem.f16(q, blk + Q8_1Activation.S);
            // s = f16(d * sum): one f16 rounding (2^-11 relative, or 2^-25 absolute when subnormal)
            // of a float product that is itself within 2 float roundings of amax/127*sum.
            assertEquals(exact, s, Math.abs(exact) * (0x1p-11 + 0x1p-22) + 0x1p-25, "s of block " + b);
        }
    }

    private static void checkQ8Blocks(GgmlType type, int bytes, int dOff, int qsOff) {
        int n = 1024;
        float[] x = input(n, 1);
        MemorySegment q = Activations.quantize(type, x, 0, n);
        float[] back = new float[n];
        ActivationFormats.of(type).dequantize(q, 0, back, 0, n);
        for (int b = 0; b < n / 32; b++) {
            long blk = (long) b * bytes;
            double amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[32 * b + j]));
            }
            double d = amax / 127;
            double d16 = Mem.f16(q, blk + dOff);
            assertEquals(d, d16, d * 0x1p-11 + 0x1p-25, "f16 scale of block " + b);
            // Each q is x/d rounded, so |x - q*d| <= d/2; storing d as f16 moves q*d by |q| <= 127
            // times the f16 rounding of d, plus float rounding of x*(127/amax) (a few 2^-24).
            double bound = d / 2 + 127 * Math.abs(d - d16) + 4 * 0x1p-24 * amax;
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                int qv = Mem.i8(q, blk + qsOff + j);
                assertTrue(Math.abs(qv) <= 127, "quant in range");
                assertTrue(Math.abs(x[i] - back[i]) <= bound,
                        type + " element " + i + ": " + x[i] + " came back as " + back[i] + ", bound " + bound);
                if (Math.abs(x[i]) == amax && amax > 0) {
                    assertEquals(127, Math.abs(qv), "the largest element uses the full range");
                }
            }
            if (amax == 0) {
                assertEquals(0.0, d16);
            }
        }
    }

    /** Ties go to the even neighbour, as x86's _mm256_round_ps and ggml's nearest_int do. */
    @Test
    void tiesRoundToEven() {
        float[] x = new float[256];
        x[0] = -127f; // Q8_0: multiplier 127/127 = 1; Q8_K: iscale = -127/-127 = 1
        x[1] = 2.5f;
        x[2] = 3.5f;
        x[3] = -2.5f;
        x[4] = 0.5f;
        int[] want = {-127, 2, 4, -2, 0};
        MemorySegment q8 = Activations.quantize(GgmlType.Q8_0, x, 0, 256);
        MemorySegment qk = Activations.quantize(GgmlType.Q8_K, x, 0, 256);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], Mem.i8(q8, Q8_0Format.QS + i), "Q8_0 element " + i);
            assertEquals(want[i], Mem.i8(qk, Q8_KActivation.QS + i), "Q8_K element " + i);
        }
        assertEquals(1f, Mem.f32(qk, Q8_KActivation.D));
    }

    /** Q8_K: d is float32 (no f16 rounding), so the bound is exactly half a step plus float rounding. */
    @Test
    void q8_KRoundTripAndBsums() {
        int n = 2048;
        float[] x = input(n, 3);
        java.util.Arrays.fill(x, 256, 512, 0f); // an all-zero super-block
        MemorySegment q = Activations.quantize(GgmlType.Q8_K, x, 0, n);
        float[] back = new float[n];
        ActivationFormats.of(GgmlType.Q8_K).dequantize(q, 0, back, 0, n);
        for (int b = 0; b < n / 256; b++) {
            long blk = (long) b * Q8_KActivation.BYTES;
            float d = Mem.f32(q, blk + Q8_KActivation.D);
            float max = 0;
            for (int j = 0; j < 256; j++) {
                if (Math.abs(x[256 * b + j]) > Math.abs(max)) {
                    max = x[256 * b + j];
                }
            }
            if (max == 0) {
                assertEquals(0f, d);
            } else {
                assertEquals(-max / 127.0, d, Math.abs(d) * 0x1p-22, "d = 1/iscale with iscale = -127/max");
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) {
                    int i = 256 * b + 16 * g + l;
                    int qv = Mem.i8(q, blk + Q8_KActivation.QS + 16 * g + l);
                    sum += qv;
                    assertTrue(qv >= -127 && qv <= 127, "quant in range");
                    double bound = Math.abs(d) / 2 + 4 * 0x1p-24 * Math.abs(max);
                    assertTrue(Math.abs(x[i] - back[i]) <= bound,
                            "Q8_K element " + i + ": " + x[i] + " came back as " + back[i] + ", bound " + bound);
                    if (x[i] == max && max != 0) {
                        assertEquals(-127, qv, "the element of largest magnitude maps to -127");
                    }
                }
                assertEquals(sum, Mem.i16(q, blk + Q8_KActivation.BSUMS + 2 * g), "bsums[" + g + "]");
            }
        }
    }

    /** F16 and BF16 activations are rounded to nearest even, like F16C and ggml's bf16 conversion. */
    @Test
    void halfFormatsRoundToNearestEven() {
        float[] x = {1f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 65504f, 1e-7f, -2.5f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f};
        MemorySegment h = Activations.quantize(GgmlType.F16, x, 0, x.length);
        float[] back = new float[x.length];
        ActivationFormats.of(GgmlType.F16).dequantize(h, 0, back, 0, x.length);
        assertEquals(1f, back[1], "tie rounds down to even");
        assertEquals(1f + 4 * 0x1p-11f, back[2], "tie rounds up to even");
        assertEquals(65504f, back[3]);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(1e-7f)), back[4], "subnormal half");
        MemorySegment bf = Activations.quantize(GgmlType.BF16, x, 0, x.length);
        ActivationFormats.of(GgmlType.BF16).dequantize(bf, 0, back, 0, x.length);
        assertEquals(1f, back[6], "bf16 tie rounds down to even");
        assertEquals(1f + 4 * 0x1p-8f, back[7], "bf16 tie rounds up to even");
        assertEquals(-2.5f, back[5]);
        assertTrue(Float.isNaN(BF16Format.get(bfOf(Float.NaN), 0)), "NaN stays NaN");
    }

    private static MemorySegment bfOf(float v) {
        return Activations.quantize(GgmlType.BF16, new float[] {v}, 0, 1);
    }

    /** The vector f16 widening equals Float.float16ToFloat for all 65536 halves (inf, NaN, subnormals). */
    @Test
    void vectorHalfWideningIsExactForEveryHalf() {
        MemorySegment all = java.lang.foreign.Arena.ofAuto().allocate(2 * 65536);
        for (int i = 0; i < 65536; i++) {
            Mem.putI16(all, 2L * i, i);
        }
        for (int i = 0; i < 65536; i += Simd.FL) {
            float[] v = Simd.f16(all, 2L * i).toArray();
            float[] b = Simd.bf16(all, 2L * i).toArray();
            for (int l = 0; l < Simd.FL; l++) {
                float want = Float.float16ToFloat((short) (i + l));
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(v[l]), "half 0x" + Integer.toHexString(i + l));
                assertEquals(Float.floatToRawIntBits(Float.intBitsToFloat((i + l) << 16)), Float.floatToRawIntBits(b[l]));
            }
        }
    }
}
