package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * How the request loop answers one request once its settings are parsed: the text to stream
 * and the figures for DONE. {@link UserConversations} is the daemon's; {@link #completions}
 * turns a plain {@link Generator} into one (raw text, no conversations), so that the loop's
 * scheduling, cancelling and streaming are tested on their own.
 */
@FunctionalInterface
public interface Answerer {
    /**
     * What one request gave.
     *
     * @param detail appended to the request's log line (", chat turn 2 ..."), never user text
     */
    record Answer(GenerationResult result, String detail) {
    }

    /**
     * Answers {@code prompt} (the text written, without echo's newline) of {@code uid}, calling
     * {@code onText} with each piece of the answer, stopping soon after {@code cancelled} turns true.
     */
    Answer answer(int uid, String prompt, RequestSettings settings, SamplerSettings sampler, Consumer<String> onText,
                  BooleanSupplier cancelled);

    /** Every prompt a raw completion by {@code generator}, streamed as {@link Completion#echoing} streams it. */
    static Answerer completions(Generator generator) {
        return (uid, prompt, settings, sampler, onText, cancelled) -> new Answer(Completion.echoing(prompt, onText,
                out -> generator.generate(prompt, sampler, settings.maxTokens(), out, cancelled)), "");
    }
}
