package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufTestWriter;
import io.llamux.gguf.GgufValueType;
import io.llamux.tensor.GgmlType;
import io.llamux.testing.Shared;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Rope frequency factors (Llama 3.1's rope_freqs.weight) and linear scaling change the rotary
 * angles as ggml_rope_ext does: angle = freqScale * (theta / factor). Checked on a copy of the
 * synthetic F32 llama with the tensor or keys added by the test writer. (The angle tables are
 * compared, not logits: a forward pass here would change the JIT profile that
 * TransformerTest.theTokenLoopAllocatesNothing measures in the same JVM.)
 */
class RopeScalingTest {
    private static final int POS = 37;

    private static ModelWeights weights(GgufTestWriter w) throws Exception {
        return ModelWeights.load(GgufFile.parse("t.gguf", w.buildSegment()), new LinearFactory(16));
    }

    private static float[] table(GgufTestWriter w) throws Exception {
        ModelWeights m = weights(w);
        return new Rope(m.config, m.rope, 1).tableAt(POS);
    }

    private static GgufTestWriter base() throws Exception {
        try (GgufFile f = GgufFile.open(Shared.require("models/synthetic-F32.gguf"))) {
            return GgufTestWriter.copyOf(f);
        }
    }

    private static GgufTestWriter withFactors(float... factors) throws Exception {
        return base().tensor("rope_freqs.weight", GgmlType.F32, GgufTestWriter.f32(factors), factors.length);
    }

    @Test
    void factorsDivideAndLinearScalingMultipliesEachAngle() throws Exception {
        GgufTestWriter plainW = base();
        ModelConfig c = weights(plainW).config;
        int half = c.ropeDims() / 2;
        float[] plain = table(plainW);
        float[] ones = new float[half];
        Arrays.fill(ones, 1f);
        // theta / 1 and 1 * theta are exact in float: identical tables.
        assertArrayEquals(plain, table(withFactors(ones)));

        float[] factors = new float[half];
        for (int i = 0; i < half; i++) {
            factors[i] = 1f + i; // a different factor per pair, as Llama 3.1's are
        }
        float[] scaled = table(withFactors(factors).kv("llama.rope.scaling.factor", GgufValueType.FLOAT32, 4f)
                .str("llama.rope.scaling.type", "linear"));
        for (int i = 0; i < half; i++) {
            // ggml: theta_i = pos * base^(-2i/d) (by a float recurrence), angle = 0.25 * theta_i / factor_i.
            // 1e-5 absolute: the recurrence in float drifts from the closed form by a few ulps of theta.
            double angle = 0.25 * POS * Math.pow(c.ropeBase(), -2.0 * i / c.ropeDims()) / factors[i];
            assertEquals(Math.cos(angle), scaled[i], 1e-5, "cos of pair " + i);
            assertEquals(Math.sin(angle), scaled[half + i], 1e-5, "sin of pair " + i);
        }

        // Uniform factors of 4 and a linear factor of 4 are the same angles (exact: powers of two),
        // and so is the older rope.scale_linear key.
        float[] fours = new float[half];
        Arrays.fill(fours, 4f);
        float[] byFactors = table(withFactors(fours));
        assertArrayEquals(byFactors, table(base().kv("llama.rope.scaling.factor", GgufValueType.FLOAT32, 4f)));
        assertArrayEquals(byFactors, table(base().kv("llama.rope.scale_linear", GgufValueType.FLOAT32, 4f)));
    }
}
