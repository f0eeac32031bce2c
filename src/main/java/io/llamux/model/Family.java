package io.llamux.model;

import io.llamux.gguf.GgufMetadata;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The architecture families Llamux runs, by {@code general.architecture}: how rotary pairs are
 * formed, which normalisation epsilon the file states, and which {@link Block} binds the tensors
 * and computes. A new family is a new {@link Block} class and one constant here.
 */
enum Family {
    LLAMA("llama", ModelConfig.RopeStyle.NORM) {
        @Override
        Block.Weights bind(TensorBinder b, ModelConfig c) {
            return LlamaBlock.bind(b, c, false);
        }
    },
    /** llama's block with NEOX rotary pairs and optional Q/K/V biases. */
    QWEN2("qwen2", ModelConfig.RopeStyle.NEOX) {
        @Override
        Block.Weights bind(TensorBinder b, ModelConfig c) {
            return LlamaBlock.bind(b, c, true);
        }
    },
    GPT2("gpt2", ModelConfig.RopeStyle.NONE) {
        @Override
        Block.Weights bind(TensorBinder b, ModelConfig c) {
            return Gpt2Block.bind(b, c);
        }

        /** LayerNorm's epsilon, which gpt2 files always state. */
        @Override
        float normEpsilon(GgufMetadata md) {
            return ModelConfig.requiredFloat(md, "attention.layer_norm_epsilon");
        }
    };

    final String architecture;
    final ModelConfig.RopeStyle rope;

    Family(String architecture, ModelConfig.RopeStyle rope) {
        this.architecture = architecture;
        this.rope = rope;
    }

    /** Binds the family's tensors: every block's, then those outside the blocks (final norm, learned positions). */
    abstract Block.Weights bind(TensorBinder b, ModelConfig c);

    /** RMSNorm's epsilon, llama.cpp's default when the file has none. */
    float normEpsilon(GgufMetadata md) {
        return md.archFloat("attention.layer_norm_rms_epsilon", 1e-5f);
    }

    /** @throws IllegalArgumentException for an architecture Llamux does not run, listing those it does */
    static Family of(String architecture) {
        for (Family f : values()) {
            if (f.architecture.equals(architecture)) {
                return f;
            }
        }
        throw new IllegalArgumentException("architecture '" + architecture + "' is not supported (supported: "
                + Arrays.stream(values()).map(f -> f.architecture).collect(Collectors.joining(", ")) + ")");
    }
}
