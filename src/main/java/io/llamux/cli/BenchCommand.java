package io.llamux.cli;

import io.llamux.engine.BenchResult;
import io.llamux.engine.Benchmark;
import io.llamux.engine.Engine;
import io.llamux.engine.EngineOptions;
import io.llamux.gguf.GgufFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llamux bench}: prompt-processing and generation speed, with llama-bench's options and output. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Measure prompt-processing and token-generation speed, like llama-bench.",
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "pp N: evaluates N random tokens in batched passes from an empty context. tg N: generates N "
                    + "tokens one at a time from an empty context (each is one forward pass; sampling is not "
                    + "included, as in llama-bench). pp N+tg M (-pg N,M): both; the rate counts N + M tokens.",
            "",
            "Lists (-m, -p, -n, -t) are comma-separated; every combination runs, for each model and thread "
                    + "count: the pp tests, then tg, then pg, as llama-bench orders them. Each test first runs "
                    + "once and until --warm-up seconds have passed (the JIT compiles the vector code), then -r "
                    + "times; t/s is the mean and sample standard deviation of the repetitions' rates.",
            "",
            "Output fields are llama-bench's (model_type, model_size, model_n_params, n_threads, n_prompt, "
                    + "n_gen, avg_ts, stddev_ts, ...), plus load_ms (loading the model for that thread count) "
                    + "and peak_rss_bytes (the process's peak resident memory so far)."},
        optionListHeading = "%nOptions:%n")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", split = ",",
            description = "GGUF model file(s). Default: the LLAMUX_MODEL environment variable.")
    List<Path> models = new ArrayList<>();

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", split = ",",
            description = "Prompt tokens of the pp tests; 0 skips them. Default: 128.")
    List<Integer> prompts = new ArrayList<>();

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", split = ",",
            description = "Generated tokens of the tg tests; 0 skips them. Default: 64.")
    List<Integer> gens = new ArrayList<>();

    @Option(names = {"-pg"}, paramLabel = "PP,TG",
            description = "A prompt-then-generate test (repeatable). Default: none.")
    List<String> promptGen = new ArrayList<>();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", split = ",",
            description = "Threads of the forward pass. Default: one per available processor.")
    List<Integer> threads = new ArrayList<>();

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "3",
            description = "Repetitions of each test. Default: ${DEFAULT-VALUE}.")
    int repetitions;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "md",
            description = "md, json, jsonl or csv. Default: ${DEFAULT-VALUE}.")
    BenchOutput.Format format;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context size in tokens. Default: what the largest test needs.")
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N",
            description = "Prompt tokens per forward pass (llama.cpp's n_batch and n_ubatch). Default: "
                    + EngineOptions.DEFAULT_BATCH + ".")
    int batchSize;

    @Option(names = "--warm-up", paramLabel = "SECONDS", defaultValue = "3",
            description = "Keep running each test for at least this long before measuring. Default: ${DEFAULT-VALUE}.")
    double warmUpSeconds;

    /** The tests in llama-bench's order: pp, tg, pg. */
    List<Benchmark.Test> tests() {
        List<Benchmark.Test> tests = new ArrayList<>();
        for (int p : prompts.isEmpty() ? List.of(128) : prompts) {
            if (p < 0) {
                throw usage("-p must not be negative: " + p);
            }
            if (p > 0) {
                tests.add(new Benchmark.Test(p, 0));
            }
        }
        for (int n : gens.isEmpty() ? List.of(64) : gens) {
            if (n < 0) {
                throw usage("-n must not be negative: " + n);
            }
            if (n > 0) {
                tests.add(new Benchmark.Test(0, n));
            }
        }
        for (String pg : promptGen) {
            String[] two = pg.split(",", -1);
            int p;
            int n;
            try {
                p = Integer.parseInt(two[0].trim());
                n = two.length == 2 ? Integer.parseInt(two[1].trim()) : -1;
            } catch (NumberFormatException e) {
                throw usage("-pg takes two numbers, PP,TG: '" + pg + "'");
            }
            if (two.length != 2 || p < 1 || n < 1) {
                throw usage("-pg takes two positive numbers, PP,TG: '" + pg + "'");
            }
            tests.add(new Benchmark.Test(p, n));
        }
        if (tests.isEmpty()) {
            throw usage("no test to run (-p 0 and -n 0 and no -pg)");
        }
        return tests;
    }

    /** The thread counts, each positive. */
    List<Integer> threadCounts() {
        if (threads.isEmpty()) {
            return List.of(Runtime.getRuntime().availableProcessors());
        }
        for (int t : threads) {
            if (t < 1) {
                throw usage("-t must be at least 1: " + t);
            }
        }
        return threads;
    }

    List<Path> modelPaths() {
        return models.isEmpty() ? List.of(ModelOptions.modelPath(null, spec)) : models;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (repetitions < 1 || contextSize < 0 || batchSize < 0 || warmUpSeconds < 0) {
            throw usage("-r must be at least 1; -c, -b and --warm-up must not be negative");
        }
        List<Benchmark.Test> tests = tests();
        List<Integer> threadCounts = threadCounts();
        List<Path> paths = modelPaths();
        int context = contextSize;
        if (context == 0) {
            for (Benchmark.Test t : tests) {
                context = Math.max(context, t.contextNeeded());
            }
            context = Math.max(16, context);
        }
        BenchOutput output = BenchOutput.of(format, out);
        long warmUp = Math.round(warmUpSeconds * 1e9);
        try {
            for (Path path : paths) {
                try (GgufFile gguf = GgufFile.open(path)) {
                    boolean first = true;
                    for (int t : threadCounts) {
                        long t0 = System.nanoTime();
                        if (first) {
                            // Inside load_ms: the read a cold file needs is part of loading it.
                            ModelFile.readIn(gguf, ModelFile.terminal(err));
                            first = false;
                        }
                        try (Engine engine = Engine.load(gguf, new EngineOptions(t, context, batchSize))) {
                            long load = System.nanoTime() - t0;
                            err.println("llamux: " + engine.info().summary());
                            err.flush();
                            for (Benchmark.Test test : tests) {
                                BenchResult r = Benchmark.measure(gguf, engine, test, repetitions, warmUp, load);
                                output.row(r);
                            }
                        }
                    }
                }
            }
            return 0;
        } finally {
            output.end();
        }
    }
}
