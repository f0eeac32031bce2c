package io.llamux.cli;

import io.llamux.engine.EngineOptions;
import io.llamux.model.KvCache;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The model and machine options shared by run, perplexity and bench (llama.cpp's spellings). */
public final class ModelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model file. Default: the LLAMUX_MODEL environment variable.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Threads for the forward pass. Default: one per available processor. "
                    + "Results do not depend on it.")
    int threads;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context size in tokens (prompt plus generated text). Default: the model's "
                    + "context length, at most " + EngineOptions.DEFAULT_CONTEXT_CAP + ".")
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N",
            description = "Prompt tokens processed per forward pass. Default: " + EngineOptions.DEFAULT_BATCH + ".")
    int batchSize;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE",
            description = "KV cache type for keys: f32, f16 or q8_0 (as llama.cpp). Default: f16.")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE",
            description = "KV cache type for values: f32, f16 or q8_0. Default: f16.")
    String cacheTypeV;

    /** The model path from -m or $LLAMUX_MODEL. */
    Path modelPath() {
        return modelPath(model, spec);
    }

    /** {@code given} (a command's -m), else $LLAMUX_MODEL, else a usage error of {@code command}. */
    static Path modelPath(Path given, CommandSpec command) {
        if (given != null) {
            return given;
        }
        String env = System.getenv("LLAMUX_MODEL");
        if (env == null || env.isBlank()) {
            throw new ParameterException(command.commandLine(), "no model: pass -m FILE or set LLAMUX_MODEL");
        }
        return Path.of(env);
    }

    EngineOptions engineOptions() {
        if (threads < 0 || contextSize < 0 || batchSize < 0) {
            throw new ParameterException(spec.commandLine(), "-t, -c and -b must not be negative");
        }
        return new EngineOptions(threads, contextSize, batchSize, cacheType(cacheTypeK), cacheType(cacheTypeV));
    }

    private KvCache.Type cacheType(String s) {
        if (s == null) {
            return null;
        }
        try {
            return KvCache.Type.parse(s);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
