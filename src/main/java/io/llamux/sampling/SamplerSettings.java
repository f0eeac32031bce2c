package io.llamux.sampling;

/**
 * How the next token is picked. Names and defaults follow llama.cpp's common sampling
 * parameters so that its users feel at home; {@code temperature <= 0} means greedy.
 *
 * @param temperature   0 or below: greedy (argmax, ties to the lowest id)
 * @param topK          keep the k most likely tokens; 0 or below: all
 * @param topP          nucleus sampling; 1: off
 * @param minP          drop tokens below minP times the top probability; 0: off
 * @param repeatPenalty llama.cpp-style penalty on the last {@code repeatLastN} tokens; 1: off
 * @param repeatLastN   how many recent tokens the penalty looks at
 * @param seed          random seed; the same seed gives the same text
 */
public record SamplerSettings(float temperature, int topK, float topP, float minP,
                              float repeatPenalty, int repeatLastN, long seed) {

    /** llama.cpp's defaults (temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no repeat penalty). */
    public static SamplerSettings defaults(long seed) {
        return new SamplerSettings(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, seed);
    }

    /** Plain argmax decoding. */
    public static SamplerSettings greedy() {
        return new SamplerSettings(0f, 0, 1f, 0f, 1f, 64, 0);
    }

    public boolean isGreedy() {
        return temperature <= 0f;
    }
}
