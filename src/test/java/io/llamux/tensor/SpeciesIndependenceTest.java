package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The dot products give the same results, to float rounding, whatever vector width the
 * machine prefers: {@link DotSample} runs in two JVMs forced to 256-bit and 512-bit shapes
 * (-Dllamux.simd.bits; a machine without AVX-512 runs the 512-bit one emulated, slowly but
 * correctly). The dot kernels use fixed 8-lane shapes, as ggml's AVX2 code does, so the
 * results must be identical. Within one
 * JVM a dot must not change its bits when the JIT compiles it (the interpreted and compiled
 * forms of {@code reduceLanes} add in different orders; Llamux uses its own fixed order).
 */
class SpeciesIndependenceTest {

    @Test
    void dotsAgreeAcrossVectorWidths() throws Exception {
        List<String> narrow = run(256, 0);
        List<String> wide = run(512, 5_000);
        assertEquals("lanes 8", narrow.get(0));
        assertEquals("lanes 16", wide.get(0));
        for (List<String> out : List.of(narrow, wide)) {
            out.stream().filter(l -> l.startsWith("NONDETERMINISTIC")).findFirst().ifPresent(l -> {
                throw new AssertionError(l);
            });
        }
        assertEquals(narrow.size(), wide.size());
        int compared = 0;
        for (int i = 1; i < narrow.size(); i++) {
            String[] a = narrow.get(i).split(" ");
            String[] b = wide.get(i).split(" ");
            assertEquals(a[0] + " " + a[1], b[0] + " " + b[1]);
            WeightFormat f = WeightFormats.of(GgmlType.valueOf(a[0]));
            int n = Integer.parseInt(a[1]);
            double magnitude = Double.parseDouble(a[3]);
            // The kernels use 8 lanes whatever the machine prefers: the same bits, not just close.
            assertEquals(Float.floatToIntBits(Float.parseFloat(a[2])), Float.floatToIntBits(Float.parseFloat(b[2])),
                    narrow.get(i) + " vs " + wide.get(i) + " (magnitude " + magnitude + ", " + f.type() + " n=" + n + ")");
            compared++;
        }
        assertNotEquals(0, compared);
    }

    private static List<String> run(int bits, int warmup) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-Dllamux.simd.bits=" + bits, "-cp", System.getProperty("java.class.path"),
                DotSample.class.getName(), Integer.toString(warmup))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("DotSample with " + bits + " bits did not finish");
        }
        assertEquals(0, p.exitValue(), "DotSample with " + bits + " bits failed:\n" + out);
        return out.lines().toList();
    }
}
