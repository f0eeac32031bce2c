package io.llamux.engine;

/**
 * What one generation did: token counts, why it stopped, and speeds (tokens per second,
 * measured on the wall clock around prompt processing and around the token loop).
 *
 * @param promptTokens the prompt tokens processed (the prompt minus {@code reusedTokens})
 * @param reusedTokens the prompt's first tokens whose keys and values the cache already held
 */
public record GenerationResult(int promptTokens, int generatedTokens, StopReason stopReason,
                               double promptTokensPerSecond, double generatedTokensPerSecond, int reusedTokens) {
    /** A generation that reused nothing. */
    public GenerationResult(int promptTokens, int generatedTokens, StopReason stopReason,
                            double promptTokensPerSecond, double generatedTokensPerSecond) {
        this(promptTokens, generatedTokens, stopReason, promptTokensPerSecond, generatedTokensPerSecond, 0);
    }
}
