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
        return GgufFile.parse("test.gguf", w.buildSegment());
    }

    @Test
    void aWellFormedModelLoadsWithTheTiedOutputHead() throws Exception {
        ModelWeights m = ModelWeights.load(model("llama", new long[]{FFN, DIM}, true), new LinearFactory(4));
        assertEquals(new ModelConfig("llama", 16, DIM, 1, FFN, 2, 2, 4, 1e-5f, 10000f, 4,
                ModelConfig.RopeStyle.NORM, VOCAB), m.config);
        assertEquals(FFN, m.layers[0].down().cols());
        assertEquals(DIM, m.layers[0].down().rows());
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
