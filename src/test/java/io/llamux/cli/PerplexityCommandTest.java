package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code llamux perplexity} against llama-perplexity on ../shared/golden/story.txt
 * (README "Perplexity"). llama.cpp's defaults (F16 KV cache, flash attention, whose value
 * accumulator is F16 too) print [1]3.4830,[2]4.1939,[3]4.8125,[4]4.6403,[5]4.5247,[6]4.5474 and
 * PPL = 4.5474 +/- 0.46350; with {@code -ctk f32 -ctv f32 -fa off} (how the goldens were made)
 * [1]3.4831,[2]4.1939,[3]4.8122,[4]4.6396,[5]4.5240,[6]4.5468 and PPL = 4.5468 +/- 0.46340.
 */
class PerplexityCommandTest {
    @Test
    void storyPerplexityWithTheDefaultCacheIsLlamaCppsDefault() {
        // Half-precision rounding of the accumulator in a different lane order moves running
        // values by up to 3e-4 (the last printed digit); the final figure prints the same.
        check(new double[]{3.4830, 4.1939, 4.8125, 4.6403, 4.5247, 4.5474}, 5e-4, "4.5474", 0.46350);
    }

    @Test
    void storyPerplexityWithAnF32CacheIsLlamaCppsF32Figure() {
        // The running values are printed to 4 decimals; ours may differ in the last one.
        check(new double[]{3.4831, 4.1939, 4.8122, 4.6396, 4.5240, 4.5468}, 2e-4, "4.5468", 0.46340,
                "-ctk", "f32", "--cache-type-v", "f32");
    }

    @Test
    void aQ8CacheNeedsHeadsOfWholeBlocks() {
        Path model = Path.of("../shared/models/stories260K.gguf");
        Shared.require(model);
        RunCommandTest.Result r = RunCommandTest.run(new PerplexityCommand(), "-m", model.toString(),
                "-f", "../shared/golden/story.txt", "-c", "128", "-ctk", "q8_0");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("do not divide the head size 8"), r.err());
        RunCommandTest.Result bad = RunCommandTest.run(new PerplexityCommand(), "-m", model.toString(),
                "-f", "../shared/golden/story.txt", "-c", "128", "-ctv", "q4");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("unsupported cache type 'q4' (use f32, f16 or q8_0)"), bad.err());
    }

    private static void check(double[] running, double tolerance, String finalPpl, double uncertainty,
                              String... extra) {
        Path model = Path.of("../shared/models/stories260K.gguf");
        Shared.require(model);
        String[] args = {"-m", model.toString(), "-f", "../shared/golden/story.txt", "-c", "128"};
        String[] all = java.util.Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        RunCommandTest.Result r = RunCommandTest.run(new PerplexityCommand(), all);
        assertEquals(0, r.exit(), r.err());
        Matcher m = Pattern.compile("\\[(\\d+)\\]([0-9.]+),").matcher(r.out());
        int n = 0;
        while (m.find()) {
            assertEquals(n + 1, Integer.parseInt(m.group(1)));
            assertEquals(running[n], Double.parseDouble(m.group(2)), tolerance, "running PPL after chunk " + (n + 1));
            n++;
        }
        assertEquals(6, n, r.out());
        Matcher f = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(r.out());
        assertTrue(f.find(), r.out());
        assertEquals(finalPpl, f.group(1), "the printed figure");
        // The uncertainty is printed to 5 decimals; allow one unit in the 4th.
        assertEquals(uncertainty, Double.parseDouble(f.group(2)), 1e-4);
    }

    @Test
    void tooShortATextIsRefusedWithTheReason() {
        Path model = Path.of("../shared/models/stories260K.gguf");
        Shared.require(model);
        RunCommandTest.Result r = RunCommandTest.run(new PerplexityCommand(), "-m", model.toString(),
                "-f", "../shared/golden/story.txt", "-c", "512");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("at least 2 * 512"), r.err());
    }
}
