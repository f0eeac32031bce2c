package io.llamux.engine;

/**
 * What one generation did: token counts, why it stopped, and speeds (tokens per second,
 * measured on the wall clock around prompt processing and around the token loop).
 */
public record GenerationResult(int promptTokens, int generatedTokens, StopReason stopReason,
                               double promptTokensPerSecond, double generatedTokensPerSecond) {
}
