package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * What the request loop needs from the engine: {@code engine::generate} is one. Kept as an
 * interface so that the loop's scheduling, cancelling and streaming are tested on their own.
 */
@FunctionalInterface
public interface Generator {
    /**
     * Generates a continuation of {@code prompt}, calling {@code onText} with each whole
     * UTF-8 piece as soon as it is decoded, and stopping soon after {@code cancelled} turns true.
     */
    GenerationResult generate(String prompt, SamplerSettings settings, int maxTokens,
                              Consumer<String> onText, BooleanSupplier cancelled);
}
