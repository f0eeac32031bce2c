package io.llamux.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llamux.tensor.GgmlType;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The reader against llama.cpp's view of the reference files (../shared/golden). */
class GgufReferenceFilesTest {
    static List<Path> allFiles() {
        return SharedFiles.allGguf();
    }

    static Stream<Path> dequantJsons() throws IOException {
        SharedFiles.assumeShared();
        return Files.list(SharedFiles.GOLDEN.resolve("dequant")).filter(p -> p.toString().endsWith(".json")).sorted();
    }

    @ParameterizedTest
    @MethodSource("allFiles")
    void everyReferenceFileOpens(Path file) throws IOException {
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.version() == 2 || f.version() == 3, "version " + f.version());
            assertNotNull(f.architecture(), "general.architecture");
            assertEquals(0, f.dataStart() % f.alignment());
            for (TensorInfo t : f.tensors()) {
                assertEquals(t.byteSize(), f.data(t).byteSize());
                assertEquals(t.rows() * t.rowBytes(), t.byteSize(), t.name());
                assertTrue(f.data(t).isReadOnly());
            }
            // Tokenizer arrays come back whole and consistent with each other.
            String[] tokens = f.metadata().getStringArray("tokenizer.ggml.tokens");
            assertNotNull(tokens);
            int[] tokenTypes = f.metadata().getIntArray("tokenizer.ggml.token_type");
            if (tokenTypes != null) {
                assertEquals(tokens.length, tokenTypes.length);
            }
        }
    }

    /** dequant/*.json gives name, type, ne and absolute data offset of a few tensors per model. */
    @ParameterizedTest
    @MethodSource("dequantJsons")
    void tensorInfosMatchLlamaCpp(Path json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        Path model = SharedFiles.MODELS.resolve(root.get("model_file").asText());
        try (GgufFile f = GgufFile.open(model)) {
            assertTrue(root.get("tensors").size() > 0);
            for (JsonNode jt : root.get("tensors")) {
                TensorInfo t = f.requireTensor(jt.get("name").asText());
                assertEquals(jt.get("type").asText(), t.type().name(), t.name());
                assertEquals(jt.get("type_id").asInt(), t.type().id, t.name());
                long[] ne = new long[jt.get("ne").size()];
                for (int i = 0; i < ne.length; i++) {
                    ne[i] = jt.get("ne").get(i).asLong();
                }
                assertArrayEquals(ne, t.ne(), t.name());
                assertEquals(jt.get("data_offset_in_file").asLong(), f.dataStart() + t.offset(), t.name());
                assertEquals(jt.get("row_sums").size(), t.rows(), t.name());
                if (t.type() == GgmlType.F32) {
                    // The first stored float of row 0 is the golden row's first value, so data() points at the right bytes.
                    float first = f.data(t).get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
                    assertEquals(jt.get("rows").get("0").get(0).floatValue(), first, 0f, t.name());
                }
            }
        }
    }

    /** Facts from golden/README.md: architectures, shapes and the pure / mixed quantization types. */
    @Test
    void modelFactsFromTheGoldenReadme() throws IOException {
        SharedFiles.assumeShared();
        try (GgufFile f = GgufFile.open(SharedFiles.MODELS.resolve("stories260K.gguf"))) {
            GgufMetadata m = f.metadata();
            assertEquals("llama", f.architecture());
            assertEquals(64, m.archInt("embedding_length", -1));
            assertEquals(172, m.archInt("feed_forward_length", -1));
            assertEquals(5, m.archInt("block_count", -1));
            assertEquals(8, m.archInt("attention.head_count", -1));
            assertEquals(4, m.archInt("attention.head_count_kv", -1));
            assertEquals(512, m.getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id", -1));
            assertEquals(2, m.getInt("tokenizer.ggml.eos_token_id", -1));
            assertTrue(f.tensors().stream().allMatch(t -> t.type() == GgmlType.F32));
        }
        try (GgufFile f = GgufFile.open(SharedFiles.MODELS.resolve("synthetic-qwen2-F32.gguf"))) {
            GgufMetadata m = f.metadata();
            assertEquals("qwen2", f.architecture());
            assertEquals(64, m.archInt("embedding_length", -1));
            assertEquals(2, m.archInt("block_count", -1));
            assertEquals(4, m.archInt("attention.head_count", -1));
            assertEquals(2, m.archInt("attention.head_count_kv", -1));
            assertEquals(192, m.archInt("feed_forward_length", -1));
            assertEquals(4096, m.archInt("context_length", -1));
            assertEquals(1e6f, m.archFloat("rope.freq_base", 0f));
            assertEquals(1e-6f, m.archFloat("attention.layer_norm_rms_epsilon", 0f));
            assertEquals("qwen2", m.getString("tokenizer.ggml.pre", null));
            assertFalse(m.getBoolean("tokenizer.ggml.add_bos_token", true));
            assertArrayEquals(new long[] {64, 32}, f.requireTensor("blk.0.attn_k.weight").ne());
            assertArrayEquals(new long[] {192, 64}, f.requireTensor("blk.1.ffn_down.weight").ne());
            assertTrue(f.tensor("output.weight").isEmpty(), "tied: no output.weight");
        }
        try (GgufFile f = GgufFile.open(SharedFiles.MODELS.resolve("synthetic-gpt2-Q8_0.gguf"))) {
            assertEquals("gpt2", f.architecture());
            assertEquals(1024, f.metadata().archInt("context_length", -1));
            assertEquals(50257, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertArrayEquals(new long[] {64, 50257}, f.requireTensor("token_embd.weight").ne());
            assertEquals(GgmlType.Q8_0, f.requireTensor("token_embd.weight").type());
            assertEquals(GgmlType.F32, f.requireTensor("position_embd.weight").type());
            assertArrayEquals(new long[] {64, 192}, f.requireTensor("blk.0.attn_qkv.weight").ne());
        }
        try (GgufFile f = GgufFile.open(SharedFiles.MODELS.resolve("synthetic-Q4_K_M-mixed.gguf"))) {
            for (TensorInfo t : f.tensors()) {
                GgmlType want = t.dims() == 1 ? GgmlType.F32
                        : List.of("output.weight", "blk.1.attn_v.weight", "blk.1.ffn_down.weight").contains(t.name()) ? GgmlType.Q6_K : GgmlType.Q4_K;
                assertEquals(want, t.type(), t.name());
            }
        }
        String[] pure = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M:Q3_K", "Q4_K_M:Q4_K", "Q5_K_M:Q5_K", "Q6_K"};
        for (String p : pure) {
            String fileType = p.split(":")[0];
            GgmlType want = GgmlType.valueOf(p.contains(":") ? p.split(":")[1] : p);
            try (GgufFile f = GgufFile.open(SharedFiles.MODELS.resolve("synthetic-" + fileType + ".gguf"))) {
                assertEquals(256, f.metadata().archInt("embedding_length", -1));
                assertEquals(768, f.metadata().archInt("feed_forward_length", -1));
                assertArrayEquals(new long[] {256, 512}, f.requireTensor("output.weight").ne());
                for (TensorInfo t : f.tensors()) {
                    assertEquals(t.dims() == 1 ? GgmlType.F32 : want, t.type(), fileType + " " + t.name());
                }
            }
        }
    }
}
