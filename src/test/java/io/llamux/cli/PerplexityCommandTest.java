package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code llamux perplexity} against llama-perplexity on ../shared/golden/story.txt
 * (README "Perplexity"): with an f32 KV cache llama.cpp prints
 * [1]3.4831,[2]4.1939,[3]4.8122,[4]4.6396,[5]4.5240,[6]4.5468 and PPL = 4.5468 +/- 0.46340
 * (its default F16 cache gives 4.5474; both are 4.55 to three digits).
 */
class PerplexityCommandTest {
    @Test
    void storyPerplexityMatchesLlamaCpp() {
        Path model = Path.of("../shared/models/stories260K.gguf");
        assumeTrue(Files.exists(model), "../shared/models is absent");
        RunCommandTest.Result r = RunCommandTest.run(new PerplexityCommand(), "-m", model.toString(),
                "-f", "../shared/golden/story.txt", "-c", "128");
        assertEquals(0, r.exit(), r.err());
        // The running values are printed to 4 decimals; ours may differ in the last one.
        double[] running = {3.4831, 4.1939, 4.8122, 4.6396, 4.5240, 4.5468};
        Matcher m = Pattern.compile("\\[(\\d+)\\]([0-9.]+),").matcher(r.out());
        int n = 0;
        while (m.find()) {
            assertEquals(n + 1, Integer.parseInt(m.group(1)));
            assertEquals(running[n], Double.parseDouble(m.group(2)), 2e-4, "running PPL after chunk " + (n + 1));
            n++;
        }
        assertEquals(6, n, r.out());
        Matcher f = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(r.out());
        assertTrue(f.find(), r.out());
        double ppl = Double.parseDouble(f.group(1));
        assertEquals("4.55", String.format("%.3g", ppl), "three significant digits");
        assertEquals(4.5468, ppl, 2e-4);
        assertEquals(0.46340, Double.parseDouble(f.group(2)), 2e-4);
    }

    @Test
    void tooShortATextIsRefusedWithTheReason() {
        Path model = Path.of("../shared/models/stories260K.gguf");
        assumeTrue(Files.exists(model), "../shared/models is absent");
        RunCommandTest.Result r = RunCommandTest.run(new PerplexityCommand(), "-m", model.toString(),
                "-f", "../shared/golden/story.txt", "-c", "512");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("at least 2 * 512"), r.err());
    }
}
