package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The dot products reproduce llama.cpp's x86 (AVX2) float arithmetic to the bit. Each reference
 * here is a plain scalar transcription of ggml's kernel: 8 float lanes, lane i holding the exact
 * integer sum over the elements e with (e mod 32) / 4 == i, one fused multiply-add of the block
 * scale per block, and hsum_float_8's ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). Bit equality is
 * the point: a one-ulp difference flips an 8-bit activation downstream and moves logits by ~1e-2.
 * Covered: Q8_0 and Q4_0 (the 32-blocks), Q4_K (scales, mins in their own 4 lanes), F16 (four
 * 8-lane accumulators, GGML_F32x8_REDUCE, tail in double) and F16's prompt-batch order.
 */
class GgmlOrderTest {

    private static float hsum8(float[] l) {
        return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    }

    @Test
    void q8_0AndQ4_0MatchGgmlBitForBit() {
        Random rnd = new Random(80);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            WeightFormat f = WeightFormats.of(type);
            for (int blocks : new int[] {1, 3, 8, 37}) {
                int n = 32 * blocks;
                MemorySegment w = DotReference.randomRow(type, n, rnd);
                MemorySegment a = Activations.quantize(GgmlType.Q8_0, DotReference.gaussian(n, rnd), 0, n);
                float[] acc = new float[8];
                for (int b = 0; b < blocks; b++) {
                    long wb = (long) b * type.typeSize;
                    long ab = (long) b * Q8_0Format.BYTES;
                    float d = Mem.f16(w, wb) * Mem.f16(a, ab);
                    for (int i = 0; i < 8; i++) {
                        int sum = 0;
                        for (int t = 0; t < 4; t++) {
                            int e = 4 * i + t;
                            int q = type == GgmlType.Q8_0 ? Mem.i8(w, wb + 2 + e)
                                    : (e < 16 ? Mem.u8(w, wb + 2 + e) & 0xF : Mem.u8(w, wb + 2 + e - 16) >> 4) - 8;
                            sum += q * Mem.i8(a, ab + 2 + e);
                        }
                        acc[i] = Math.fma(d, (float) sum, acc[i]);
                    }
                }
                assertEquals(Float.floatToIntBits(hsum8(acc)), Float.floatToIntBits(f.dot(w, 0, a, 0, n)),
                        type + " with " + blocks + " blocks");
            }
        }
    }

    @Test
    void q4_KMatchesGgmlBitForBit() {
        Random rnd = new Random(12);
        WeightFormat f = WeightFormats.of(GgmlType.Q4_K);
        for (int blocks : new int[] {1, 2, 5}) {
            int n = 256 * blocks;
            MemorySegment w = DotReference.randomRow(GgmlType.Q4_K, n, rnd);
            MemorySegment a = Activations.quantize(GgmlType.Q8_K, DotReference.gaussian(n, rnd), 0, n);
            float[] acc = new float[8];
            float[] mins = new float[4];
            for (int b = 0; b < blocks; b++) {
                long wb = (long) b * Q4_KFormat.BYTES;
                long ab = (long) b * Q8_KActivation.BYTES;
                float da = Mem.f32(a, ab);
                float d = da * Mem.f16(w, wb + Q4_KFormat.D);
                float dmin = -da * Mem.f16(w, wb + Q4_KFormat.DMIN);
                int[] sub = new int[8];
                for (int s = 0; s < 8; s++) {
                    for (int l = 0; l < 32; l++) {
                        sub[s] += Mem.i8(a, ab + Q8_KActivation.QS + 32 * s + l);
                    }
                }
                for (int m = 0; m < 4; m++) {
                    int prod = Q4_KFormat.min(w, wb + Q4_KFormat.SCALES, 2 * m) * sub[2 * m]
                            + Q4_KFormat.min(w, wb + Q4_KFormat.SCALES, 2 * m + 1) * sub[2 * m + 1];
                    mins[m] = Math.fma(dmin, (float) prod, mins[m]);
                }
                for (int i = 0; i < 8; i++) {
                    int sum = 0;
                    for (int s = 0; s < 8; s++) {
                        int part = 0;
                        for (int t = 0; t < 4; t++) {
                            int l = 4 * i + t;
                            int q = (Mem.u8(w, wb + Q4_KFormat.QS + 32 * (s >> 1) + l) >> (4 * (s & 1))) & 0xF;
                            part += q * Mem.i8(a, ab + Q8_KActivation.QS + 32 * s + l);
                        }
                        sum += Q4_KFormat.scale(w, wb + Q4_KFormat.SCALES, s) * part;
                    }
                    acc[i] = Math.fma(d, (float) sum, acc[i]);
                }
            }
            float want = hsum8(acc) + ((mins[0] + mins[2]) + (mins[1] + mins[3]));
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(f.dot(w, 0, a, 0, n)), blocks + " super-blocks");
        }
    }

    @Test
    void f16MatchesGgmlBitForBitInBothOrders() {
        Random rnd = new Random(16);
        WeightFormat f = WeightFormats.of(GgmlType.F16);
        for (int n : new int[] {32, 64, 96, 200, 256, 1000}) {
            MemorySegment w = DotReference.randomRow(GgmlType.F16, n, rnd);
            MemorySegment a = Activations.quantize(GgmlType.F16, DotReference.gaussian(n, rnd), 0, n);
            float[] x = new float[n];
            float[] y = new float[n];
            f.dequantize(w, 0, x, 0, n);
            ActivationFormats.of(GgmlType.F16).dequantize(a, 0, y, 0, n);
            // ggml_vec_dot_f16: sum[j] over steps of 32, reduce (s0+s2)+(s1+s3), then the 8 lanes.
            int np = n & ~31;
            float[][] s = new float[4][8];
            for (int i = 0; i < np; i += 32) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 8; l++) {
                        s[j][l] = Math.fma(x[i + 8 * j + l], y[i + 8 * j + l], s[j][l]);
                    }
                }
            }
            float[] r = new float[8];
            for (int l = 0; l < 8; l++) {
                r[l] = (s[0][l] + s[2][l]) + (s[1][l] + s[3][l]);
            }
            double sum = ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]));
            for (int i = np; i < n; i++) {
                sum += x[i] * y[i];
            }
            assertEquals(Float.floatToIntBits((float) sum), Float.floatToIntBits(f.dot(w, 0, a, 0, n)), "n=" + n);
            // tinyBLAS (prompt batches): one 8-lane chain, hsum_float_8.
            if (n % 8 == 0) {
                float[] chain = new float[8];
                for (int i = 0; i < n; i += 8) {
                    for (int l = 0; l < 8; l++) {
                        chain[l] = Math.fma(x[i + l], y[i + l], chain[l]);
                    }
                }
                assertEquals(Float.floatToIntBits(hsum8(chain)), Float.floatToIntBits(f.dotForBatch(w, 0, a, 0, n)),
                        "batch n=" + n);
            }
        }
    }
}
