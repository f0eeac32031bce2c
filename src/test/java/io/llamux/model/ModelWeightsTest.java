package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufTestWriter;
import io.llamux.gguf.GgufValueType;
import io.llamux.tensor.GgmlType;
import org.junit.jupiter.api.Test;

/** Loading checks every tensor against the configuration and names what is wrong. */
class ModelWeightsTest {
    private static final int DIM = 8;
    private static final int FFN = 16;
    private static final int VOCAB = 4;

    /** A one-layer llama (dim 8, 2 heads of 4, ffn 16) with the given ffn_down shape and optional k. */
    private static GgufFile model(String arch, long[] ffnDown, boolean withK) throws Exception {
        return GgufFile.parse("test.gguf", writer(arch, ffnDown, withK).buildSegment());
    }

    private static GgufTestWriter writer(String arch, long[] ffnDown, boolean withK) {
        GgufTestWriter w = new GgufTestWriter()
                .str("general.architecture", arch)
                .u32(arch + ".context_length", 16)
                .u32(arch + ".embedding_length", DIM)
                .u32(arch + ".block_count", 1)
                .u32(arch + ".feed_forward_length", FFN)
                .u32(arch + ".attention.head_count", 2)
                .kv(arch + ".attention.layer_norm_rms_epsilon", GgufValueType.FLOAT32, 1e-5f)
                .tensor("token_embd.weight", GgmlType.F32, DIM, VOCAB)
                .tensor("blk.0.attn_norm.weight", GgmlType.F32, DIM)
                .tensor("blk.0.attn_q.weight", GgmlType.F32, DIM, DIM);
        if (withK) {
            w.tensor("blk.0.attn_k.weight", GgmlType.F32, DIM, DIM);
        }
        w.tensor("blk.0.attn_v.weight", GgmlType.F32, DIM, DIM)
                .tensor("blk.0.attn_output.weight", GgmlType.F32, DIM, DIM)
                .tensor("blk.0.ffn_norm.weight", GgmlType.F32, DIM)
                .tensor("blk.0.ffn_gate.weight", GgmlType.F32, DIM, FFN)
                .tensor("blk.0.ffn_up.weight", GgmlType.F32, DIM, FFN)
                .tensor("blk.0.ffn_down.weight", GgmlType.F32, ffnDown)
                .tensor("output_norm.weight", GgmlType.F32, DIM);
        return w;
    }

    private static String refusal(GgufTestWriter w) throws Exception {
        GgufFile f = GgufFile.parse("test.gguf", w.buildSegment());
        return assertThrows(IllegalArgumentException.class, () -> ModelWeights.load(f, new LinearFactory(4)))
                .getMessage();
    }

    private static GgufTestWriter good() {
        return writer("llama", new long[]{FFN, DIM}, true);
    }

    @Test
    void aTensorTheArchitectureDoesNotUseIsRefusedByName() throws Exception {
        assertEquals("tensor blk.0.ffn_gate_exps.weight is not used by architecture llama as Llamux implements it; "
                + "the model would run wrong without it",
                refusal(good().tensor("blk.0.ffn_gate_exps.weight", GgmlType.F32, DIM, FFN, 2)));
    }

    @Test
    void metadataThatChangesTheArithmeticIsRefusedByName() throws Exception {
        assertEquals("metadata key llama.expert_count = 8 changes the model's arithmetic in a way Llamux does "
                + "not implement", refusal(good().u32("llama.expert_count", 8)));
        assertTrue(refusal(good().kv("llama.final_logit_softcapping", GgufValueType.FLOAT32, 30f))
                .startsWith("metadata key llama.final_logit_softcapping = 30 "));
        assertEquals("metadata key llama.rope.scaling.type = yarn: Llamux implements linear rope scaling and "
                + "frequency factors, not yarn", refusal(good().str("llama.rope.scaling.type", "yarn")));
        assertTrue(refusal(good().kv("llama.rope.scaling.attn_factor", GgufValueType.FLOAT32, 0.5f))
                .startsWith("metadata key llama.rope.scaling.attn_factor = 0.5"));
        // Neutral values change nothing and load.
        ModelWeights.load(GgufFile.parse("t", good().u32("llama.expert_count", 0)
                .kv("llama.logit_scale", GgufValueType.FLOAT32, 1f)
                .str("llama.rope.scaling.type", "none").buildSegment()), new LinearFactory(4));
    }

    @Test
    void ropeFrequencyFactorsAndLinearScalingAreRead() throws Exception {
        ModelWeights plain = ModelWeights.load(model("llama", new long[]{FFN, DIM}, true), new LinearFactory(4));
        assertTrue(plain.rope == RopeScaling.NONE);
        // head dim 4: 2 rotary pairs, so 2 factors.
        GgufTestWriter w = good().kv("llama.rope.scaling.factor", GgufValueType.FLOAT32, 4f)
                .str("llama.rope.scaling.type", "linear")
                .tensor("rope_freqs.weight", GgmlType.F32, GgufTestWriter.f32(1f, 8f), 2);
        ModelWeights m = ModelWeights.load(GgufFile.parse("t", w.buildSegment()), new LinearFactory(4));
        assertEquals(0.25f, m.rope.freqScale());
        assertEquals(1f, m.rope.factor(0));
        assertEquals(8f, m.rope.factor(1));
        assertEquals("tensor rope_freqs.weight: expected 2 F32 values (one per rotary pair), found F32 [3]",
                refusal(good().tensor("rope_freqs.weight", GgmlType.F32, GgufTestWriter.f32(1f, 1f, 1f), 3)));
        assertEquals("tensor rope_freqs.weight holds 0.0; frequency factors must be positive",
                refusal(good().tensor("rope_freqs.weight", GgmlType.F32, GgufTestWriter.f32(1f, 0f), 2)));
    }

    @Test
    void aWellFormedModelLoadsWithTheTiedOutputHead() throws Exception {
        ModelWeights m = ModelWeights.load(model("llama", new long[]{FFN, DIM}, true), new LinearFactory(4));
        assertEquals(new ModelConfig("llama", 16, DIM, 1, FFN, 2, 2, 4, 1e-5f, 10000f, 4,
                ModelConfig.RopeStyle.NORM, VOCAB), m.config);
        Linear down = ((LlamaBlock.Weights) m.blocks).layers()[0].down();
        assertEquals(FFN, down.cols());
        assertEquals(DIM, down.rows());
        assertTrue(m.output == m.tokenEmbedding, "no output.weight: the embedding is the output head");
    }

    @Test
    void aTransposedFfnDownIsRefusedWithBothShapes() throws Exception {
        GgufFile f = model("llama", new long[]{DIM, FFN}, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelWeights.load(f, new LinearFactory(4)));
        assertEquals("tensor blk.0.ffn_down.weight: expected shape [16, 8] (ggml order, ne[0] = row length), "
                + "found [8, 16]", e.getMessage());
    }

    @Test
    void aMissingTensorOrArchitectureIsNamed() throws Exception {
        GgufFile noK = model("llama", new long[]{FFN, DIM}, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelWeights.load(noK, new LinearFactory(4)));
        assertEquals("missing tensor blk.0.attn_k.weight", e.getMessage());
        GgufFile mamba = model("mamba", new long[]{FFN, DIM}, true);
        e = assertThrows(IllegalArgumentException.class, () -> ModelWeights.load(mamba, new LinearFactory(4)));
        assertTrue(e.getMessage().contains("architecture 'mamba' is not supported"), e.getMessage());
    }
}
