package io.llamux.daemon;

import io.llamux.engine.GenerationResult;

import java.util.function.Consumer;
import java.util.function.Function;

/** A raw completion as {@code llamux run} prints it: the prompt, then its continuation. */
final class Completion {
    private Completion() {
    }

    /**
     * Runs {@code generate} (given the stream for the continuation) and streams the prompt before
     * its first piece: once generation is under way, so that a prompt the engine rejects gets
     * only the error; a generation that gave no text still shows the prompt.
     */
    static GenerationResult echoing(String prompt, Consumer<String> onText,
                                    Function<Consumer<String>, GenerationResult> generate) {
        boolean[] echoed = {false};
        GenerationResult result = generate.apply(piece -> {
            if (!echoed[0]) {
                echoed[0] = true;
                if (!prompt.isEmpty()) onText.accept(prompt);
            }
            if (!piece.isEmpty()) onText.accept(piece);
        });
        if (!echoed[0] && !prompt.isEmpty()) onText.accept(prompt);
        return result;
    }
}
