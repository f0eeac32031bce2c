package io.llamux.testing;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufMetadata;
import io.llamux.gguf.GgufTestWriter;
import io.llamux.gguf.GgufValueType;
import io.llamux.tensor.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A llama model whose answers are known: synthetic-chat-Q8_0's Phi-3 vocabulary and chat
 * template, with weights that make greedy decoding a fixed chain. Attention and feed-forward
 * weights are zero, so the last hidden state is the current token's embedding, and the output
 * matrix maps each token to its successor: after "\n" (the end of {@code <|assistant|>\n})
 * comes " Hello", then "!", then {@code <|end|>}. Every turn's answer is " Hello!", ending at
 * end of turn.
 */
public final class ScriptedChatModel {
    public static final String ANSWER = " Hello!";
    private static final int DIM = 16;
    private static final int NEWLINE = 13;
    private static final int HELLO = 15043;
    private static final int BANG = 29991;
    private static final int END = 32007;
    /** Token -> the successor greedy picks; every other token is followed by END. */
    private static final Map<Integer, Integer> NEXT = Map.of(NEWLINE, HELLO, HELLO, BANG, BANG, END);

    private ScriptedChatModel() {
    }

    /** Writes the model into {@code dir} and returns its path. */
    public static Path write(Path dir) throws IOException {
        Path source = Shared.require("models/synthetic-chat-Q8_0.gguf");
        GgufTestWriter w = new GgufTestWriter();
        int vocab;
        try (GgufFile f = GgufFile.open(source)) {
            GgufMetadata m = f.metadata();
            for (String k : m.keys()) {
                if (k.startsWith("tokenizer.")) {
                    w.kv(k, m.type(k), m.get(k));
                }
            }
            vocab = m.getStringArray("tokenizer.ggml.tokens").length;
        }
        w.str("general.architecture", "llama").str("general.name", "scripted chat")
                .u32("llama.context_length", 256)
                .u32("llama.embedding_length", DIM)
                .u32("llama.block_count", 1)
                .u32("llama.feed_forward_length", DIM)
                .u32("llama.attention.head_count", 2)
                .kv("llama.attention.layer_norm_rms_epsilon", GgufValueType.FLOAT32, 1e-5f);
        // Embedding: a slot per scripted token (1..3), slot 0 for every other token.
        float[] embd = new float[vocab * DIM];
        float[] out = new float[vocab * DIM];
        int[] slotOf = {NEWLINE, HELLO, BANG};
        for (int t = 0; t < vocab; t++) {
            embd[t * DIM] = 1;
        }
        for (int s = 0; s < slotOf.length; s++) {
            int t = slotOf[s];
            embd[t * DIM] = 0;
            embd[t * DIM + s + 1] = 1;
            out[NEXT.get(t) * DIM + s + 1] = 10;
        }
        out[END * DIM] = 10;
        float[] ones = new float[DIM];
        java.util.Arrays.fill(ones, 1);
        float[] zero = new float[DIM * DIM];
        w.tensor("token_embd.weight", GgmlType.F32, GgufTestWriter.f32(embd), DIM, vocab)
                .tensor("blk.0.attn_norm.weight", GgmlType.F32, GgufTestWriter.f32(ones), DIM)
                .tensor("blk.0.attn_q.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.attn_k.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.attn_v.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.attn_output.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.ffn_norm.weight", GgmlType.F32, GgufTestWriter.f32(ones), DIM)
                .tensor("blk.0.ffn_gate.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.ffn_up.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("blk.0.ffn_down.weight", GgmlType.F32, GgufTestWriter.f32(zero), DIM, DIM)
                .tensor("output_norm.weight", GgmlType.F32, GgufTestWriter.f32(ones), DIM)
                .tensor("output.weight", GgmlType.F32, GgufTestWriter.f32(out), DIM, vocab);
        Path file = dir.resolve("scripted-chat.gguf");
        Files.write(file, w.build());
        return file;
    }
}
