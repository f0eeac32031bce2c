package io.llamux.cli;

import io.llamux.engine.Engine;
import io.llamux.gguf.GgufFile;
import io.llamux.model.Transformer;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code llamux bench}: prompt-processing and generation speed, like llama-bench. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Measure prompt-processing and token-generation speed, like llama-bench.",
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "pp: evaluates -p random tokens in one batched pass from an empty context. "
                    + "tg: generates -n tokens one at a time from an empty context (each token is one "
                    + "forward pass; sampling is not included, as in llama-bench).",
            "",
            "Each test first runs for 3 seconds to warm up (the JIT compiles the vector code), then "
                    + "-r times; the table shows the mean and sample standard deviation of the tokens per second."},
        optionListHeading = "%nOptions:%n")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", defaultValue = "128",
            description = "Prompt tokens for the pp test; 0 skips it. Default: ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", defaultValue = "64",
            description = "Generated tokens for the tg test; 0 skips it. Default: ${DEFAULT-VALUE}.")
    int genTokens;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "3",
            description = "Repetitions of each test. Default: ${DEFAULT-VALUE}.")
    int repetitions;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (repetitions < 1 || promptTokens < 0 || genTokens < 0) {
            err.println("llamux bench: -r must be at least 1, -p and -n not negative");
            return 2;
        }
        if (model.contextSize == 0) {
            model.contextSize = Math.max(16, Math.max(promptTokens, genTokens) + 1);
        }
        try (GgufFile gguf = GgufFile.open(model.modelPath());
             Engine engine = Engine.load(gguf, model.engineOptions())) {
            Transformer t = engine.transformer();
            if (promptTokens > t.contextSize() || genTokens > t.contextSize()) {
                err.println("llamux bench: the context (" + t.contextSize() + ") is smaller than the test");
                return 1;
            }
            err.println("llamux: " + engine.info().summary());
            out.printf("| %-40s | %7s | %-8s | %20s |%n", "model", "threads", "test", "t/s");
            out.printf("| %s | %s | %s | %s |%n", "-".repeat(40), "-".repeat(7), "-".repeat(8), "-".repeat(20));
            int[] tokens = new SplittableRandom(1).ints(Math.max(promptTokens, genTokens), 0, t.config().vocabSize()).toArray();
            String name = engine.info().name() + " " + engine.info().weightType();
            if (promptTokens > 0) {
                row(out, name, engine, "pp" + promptTokens, measure(() -> t.forward(tokens, 0, promptTokens, 0, false),
                        promptTokens));
            }
            if (genTokens > 0) {
                row(out, name, engine, "tg" + genTokens, measure(() -> {
                    for (int i = 0; i < genTokens; i++) {
                        t.forward(tokens, i, 1, i, false);
                    }
                }, genTokens));
            }
            return 0;
        } catch (IOException | IllegalArgumentException | UnsupportedOperationException e) {
            err.println("llamux bench: " + e.getMessage());
            return 1;
        }
    }

    private double[] measure(Runnable test, int tokens) {
        // Warm-up: unlike llama-bench's single run, the JIT needs a few seconds of the same
        // work before the vector code is compiled; page faults on the mapped weights go too.
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        do {
            test.run();
        } while (System.nanoTime() < warmUntil);
        double[] rates = new double[repetitions];
        for (int i = 0; i < repetitions; i++) {
            long t0 = System.nanoTime();
            test.run();
            rates[i] = tokens * 1e9 / (System.nanoTime() - t0);
        }
        return rates;
    }

    private static void row(PrintWriter out, String name, Engine engine, String test, double[] rates) {
        double mean = 0;
        for (double r : rates) {
            mean += r;
        }
        mean /= rates.length;
        double var = 0;
        for (double r : rates) {
            var += (r - mean) * (r - mean);
        }
        double sd = rates.length > 1 ? Math.sqrt(var / (rates.length - 1)) : 0;
        out.printf("| %-40s | %7d | %-8s | %20s |%n", name, engine.info().threads(), test,
                String.format("%.2f ± %.2f", mean, sd));
        out.flush();
    }
}
