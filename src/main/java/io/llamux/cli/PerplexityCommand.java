package io.llamux.cli;

import io.llamux.engine.Engine;
import io.llamux.engine.Perplexity;
import io.llamux.gguf.GgufFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code llamux perplexity}: how well a model predicts a text, computed as llama-perplexity does. */
@Command(name = "perplexity", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Measure a model's perplexity on a text file, as llama-perplexity does.",
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "Tokenizes FILE (with BOS), cuts it into chunks of -c tokens (a shorter tail is dropped), and "
                    + "evaluates each chunk from an empty context with its first token replaced by BOS. Only "
                    + "the second half of each chunk is scored: positions c/2 .. c-2 predict the next token, "
                    + "so every scored token has at least c/2 tokens of context.",
            "",
            "Prints the running perplexity after each chunk as [1]x,[2]y,... and ends with "
                    + "'Final estimate: PPL = X +/- Y', where Y is the standard error of the mean negative "
                    + "log-likelihood, scaled by the perplexity (llama.cpp's formula). The text needs at least "
                    + "2 * c tokens."},
        optionListHeading = "%nOptions:%n")
public final class PerplexityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true, description = "The text to score (UTF-8).")
    Path file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (model.contextSize == 0) {
            model.contextSize = 512; // llama-perplexity's default chunk size
        }
        try (GgufFile gguf = ModelFile.open(model.modelPath(), err);
             Engine engine = Engine.load(gguf, model.engineOptions())) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int[] tokens = engine.tokenizer().encode(text, true, false);
            int n = engine.info().contextSize();
            err.printf("llamux: %s%nllamux: %d tokens, %d chunks of %d%n", engine.info().summary(),
                    tokens.length, tokens.length / n, n);
            if (engine.info().contextWarning() != null) {
                err.println("llamux: " + engine.info().contextWarning());
            }
            err.flush();
            int[] chunk = {0};
            long t0 = System.nanoTime();
            Perplexity.Result r = Perplexity.compute(engine, tokens, n, ppl -> {
                out.printf("[%d]%.4f,", ++chunk[0], ppl);
                out.flush();
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.println();
            out.printf("Final estimate: PPL = %.4f +/- %.5f%n", r.ppl(), r.uncertainty());
            out.flush();
            err.printf("llamux: %d chunks, %d tokens scored, %.2f tokens/s%n", r.chunks(), r.scoredTokens(),
                    r.chunks() * (double) n / seconds);
            return 0;
        }
    }
}
