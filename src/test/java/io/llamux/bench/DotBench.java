package io.llamux.bench;

import io.llamux.tensor.Activations;
import io.llamux.tensor.GgmlType;
import io.llamux.tensor.WeightFormat;
import io.llamux.tensor.WeightFormats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-threaded matrix-vector product per weight type: {@code rows} rows of {@code n}
 * weights (random blocks with finite scales) against one partner-quantized vector, plus the
 * activation quantization itself. Not part of {@code make test}; after {@code mvn test-compile}
 * run {@code java --add-modules jdk.incubator.vector -cp target/test-classes:target/classes:<jmh-core,
 * jopt-simple, commons-math3 jars> org.openjdk.jmh.Main DotBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DotBench {

    @Param({"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"4096"})
    public int n;

    @Param({"512"})
    public int rows;

    private WeightFormat format;
    private MemorySegment weights;
    private Activations acts;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        GgmlType t = GgmlType.valueOf(type);
        format = WeightFormats.of(t);
        Random rnd = new Random(1);
        long bytes = format.rowBytes(n) * rows;
        weights = Arena.ofAuto().allocate(bytes, 64);
        ValueLayout.OfShort h = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        switch (t) {
            case F32 -> {
                for (long o = 0; o < bytes; o += 4) {
                    weights.set(f, o, (float) rnd.nextGaussian());
                }
            }
            case F16 -> {
                for (long o = 0; o < bytes; o += 2) {
                    weights.set(h, o, Float.floatToFloat16((float) rnd.nextGaussian()));
                }
            }
            case BF16 -> {
                for (long o = 0; o < bytes; o += 2) {
                    weights.set(h, o, (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16));
                }
            }
            default -> {
                // Every 16-bit word becomes a half in [2^-7, 2^-6): whichever words are the
                // block scales, they are normal and their products never go subnormal (which
                // would time microcode assists, not the kernel). Quant bits stay random enough:
                // the kernels have no data-dependent branches.
                for (long o = 0; o + 1 < bytes; o += 2) {
                    weights.set(h, o, (short) ((rnd.nextInt() & 0x03FF) | 0x2000));
                }
            }
        }
        x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        acts = Activations.forWeights(format, n, 1);
        acts.quantize(0, x, 0);
        out = new float[rows];
    }

    @Benchmark
    public float[] matmul() {
        long rowBytes = format.rowBytes(n);
        for (int r = 0; r < rows; r++) {
            out[r] = format.dot(weights, r * rowBytes, acts.segment(), 0, n);
        }
        return out;
    }

    @Benchmark
    public MemorySegment quantizeActivation() {
        return acts.quantize(x, 0);
    }
}
