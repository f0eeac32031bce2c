package io.llamux.model;

import io.llamux.gguf.GgufMetadata;

/**
 * Metadata keys that change a model's arithmetic in llama.cpp and that Llamux does not
 * implement: a file that sets one to anything but its neutral value is refused, naming the
 * key, rather than run with wrong output. (Rope scaling keys are {@link RopeScaling}'s.)
 */
final class UnimplementedKeys {
    /** Key suffix under the architecture, and the value that leaves the math unchanged. */
    private static final Object[][] NEUTRAL = {
            {"expert_count", 0.0},                 // mixture of experts (Mixtral)
            {"expert_used_count", 0.0},
            {"attention.clamp_kqv", 0.0},          // clamps Q, K, V (DBRX, OLMo)
            {"attention.max_alibi_bias", 0.0},     // ALiBi positions (MPT, BLOOM)
            {"logit_scale", 1.0},                  // Cohere, Granite
            {"attn_logit_softcapping", 0.0},       // Gemma 2
            {"final_logit_softcapping", 0.0},
            {"embedding_scale", 1.0},              // Granite
            {"residual_scale", 1.0},
            {"attention.scale", 0.0},              // Granite's KQ scale (0: 1/sqrt(head_dim))
    };

    private UnimplementedKeys() {
    }

    /** @throws IllegalArgumentException naming the first key set to a value Llamux does not implement */
    static void check(GgufMetadata md) {
        for (Object[] k : NEUTRAL) {
            String suffix = (String) k[0];
            if (!md.archHas(suffix)) {
                continue;
            }
            double neutral = (Double) k[1];
            double v = md.getDouble(md.archKey(suffix), Double.NaN);
            if (v != neutral) {
                throw new IllegalArgumentException("metadata key " + md.archKey(suffix) + " = " + fmt(v)
                        + " changes the model's arithmetic in a way Llamux does not implement");
            }
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
