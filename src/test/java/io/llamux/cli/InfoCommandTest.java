package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufTestWriter;
import io.llamux.tensor.GgmlType;
import io.llamux.gguf.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code llamux info} through Main, as a user runs it, against the reference files. */
class InfoCommandTest {
    private static final Path SHARED = Path.of("..", "shared");

    record Run(int exit, String out, String err) {
    }

    static Run llamux(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static List<Path> allFiles() throws IOException {
        Shared.require(SHARED.resolve("models"));
        try (Stream<Path> a = Files.list(SHARED.resolve("models")); Stream<Path> b = Files.list(SHARED.resolve("tokenizer-tests"))) {
            return Stream.concat(a, b).filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
    }

    /** The JSON report agrees with the reader, tensor by tensor, for every reference file. */
    @ParameterizedTest
    @MethodSource("allFiles")
    void jsonReportMatchesTheFile(Path file) throws IOException {
        Run r = llamux("info", "--json", "--tensors", file.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(f.version(), j.get("gguf_version").asInt());
            assertEquals(f.architecture(), j.get("architecture").asText());
            assertEquals(f.tensors().size(), j.get("tensor_count").asInt());
            assertEquals(f.metadata().getStringArray("tokenizer.ggml.tokens").length, j.get("tokenizer").get("vocab_size").asInt());
            assertEquals(f.metadata().getString("tokenizer.ggml.model", null), j.get("tokenizer").get("model").asText());
            assertEquals(f.metadata().archInt("embedding_length", -1), j.get("hyper_parameters").path("embedding_length").asInt(-1));
            Map<String, long[]> perType = new HashMap<>();
            for (int i = 0; i < f.tensors().size(); i++) {
                TensorInfo t = f.tensors().get(i);
                JsonNode jt = j.get("tensors").get(i);
                assertEquals(t.name(), jt.get("name").asText());
                assertEquals(t.type().name(), jt.get("type").asText());
                assertEquals(t.ne().length, jt.get("ne").size());
                assertEquals(f.dataStart() + t.offset(), jt.get("offset").asLong());
                long[] cb = perType.computeIfAbsent(t.type().name(), k -> new long[2]);
                cb[0]++;
                cb[1] += t.byteSize();
            }
            assertEquals(perType.size(), j.get("types").size());
            for (JsonNode row : j.get("types")) {
                long[] cb = perType.get(row.get("type").asText());
                assertEquals(cb[0], row.get("tensors").asLong());
                assertEquals(cb[1], row.get("bytes").asLong());
            }
        }
    }

    /** Shapes and types as golden/README.md and golden/dequant describe them, in the text report. */
    @Test
    void textReportShowsArchitectureShapesAndTypes() throws IOException {
        allFiles();
        Run r = llamux("info", "--tensors", SHARED.resolve("models/synthetic-Q4_K_M-mixed.gguf").toString());
        assertEquals(0, r.exit(), r.err());
        String out = r.out();
        assertTrue(out.contains("architecture             llama"), out);
        assertTrue(out.contains("embedding_length         256"), out);
        assertTrue(out.contains("feed_forward_length      768"), out);
        assertTrue(out.contains("head_count_kv            4"), out);
        assertTrue(out.contains("512 tokens"), out);
        assertTrue(out.matches("(?s).*\\n  Q4_K +\\d+ .*"), out);
        // Q6_K: output, blk.1.attn_v, blk.1.ffn_down (golden/README.md).
        assertTrue(out.matches("(?s).*\\n  Q6_K +3 .*"), out);
        assertTrue(out.matches("(?s).*output\\.weight +Q6_K +\\[256, 512].*"), out);

        r = llamux("info", SHARED.resolve("models/synthetic-gpt2-F32.gguf").toString());
        assertTrue(r.out().contains("hyper-parameters (gpt2.*)"), r.out());
        assertTrue(r.out().contains("context_length           1024"), r.out());
        assertTrue(r.out().contains("layer_norm_epsilon       1.0E-5"), r.out());
        assertTrue(r.out().contains("gpt2 (pre: gpt-2)"), r.out());
        assertTrue(r.out().contains("50257 tokens, 50000 merges"), r.out());
        assertTrue(r.out().contains("BOS / EOS                50256 / 50256"), r.out());
    }

    /** general.file_type names the recipe; the synthetic files are named after it (golden/README.md). */
    @Test
    void fileTypeNamesMatchTheQuantizationRecipe() throws IOException {
        for (Path file : allFiles()) {
            String stem = file.getFileName().toString().replace(".gguf", "");
            if (!stem.matches("synthetic-[A-Z0-9_]+(-mixed)?") || stem.equals("synthetic-F32")) {
                continue; // synthetic-F32 came from llama2.c and has no file_type
            }
            JsonNode j = new ObjectMapper().readTree(llamux("info", "--json", file.toString()).out());
            assertEquals(stem.replace("synthetic-", "").replace("-mixed", ""), j.get("file_type_name").asText(), stem);
        }
        Run r = llamux("info", SHARED.resolve("models/synthetic-Q4_K_M-mixed.gguf").toString());
        assertTrue(r.out().contains("file type                15 (Q4_K_M)"), r.out());
    }

    @Test
    void errorsAreOneLineWithExitCodeOne(@TempDir Path dir) throws IOException {
        Run r = llamux("info", dir.resolve("missing.gguf").toString());
        assertEquals(1, r.exit());
        assertEquals("llamux: " + dir.resolve("missing.gguf") + ": no such file\n", r.err());

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "hello, world");
        r = llamux("info", junk.toString());
        assertEquals(1, r.exit());
        assertEquals("llamux: " + junk + ": at byte 0: not a GGUF file: it starts with 68 65 6c 6c, not \"GGUF\" (47 47 55 46)\n", r.err());
        assertFalse(r.err().contains("Exception"));

        r = llamux("info", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("llamux: " + dir + ": is a directory"), r.err());
    }

    /** A type Llamux cannot compute with still opens and is shown as such; an id ggml lacks is an error. */
    @Test
    void unsupportedTypesAreShownAndUnknownIdsAreErrors(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("iq.gguf");
        Files.write(file, new GgufTestWriter().str("general.architecture", "mistral")
                .u32("mistral.block_count", 7)
                .tensor("blk.0.ffn_up.weight", GgmlType.IQ2_XS, 256, 4)
                .tensor("output_norm.weight", GgmlType.F32, 256).build());
        Run r = llamux("info", file.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("hyper-parameters (mistral.*)"), r.out());
        assertTrue(r.out().contains("block_count              7"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  IQ2_XS +1 +296  \\(Llamux cannot compute with this type\\)\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\n  F32 +1 +1,024\\n.*"), r.out());

        GgufTestWriter w = new GgufTestWriter().tensor("w", 99, -1, 32);
        Files.write(file, w.build());
        r = llamux("info", file.toString());
        assertEquals(1, r.exit());
        assertEquals("llamux: " + file + ": at byte " + w.at.get("ggml_type:w") + ": tensor 'w' has type id 99, which ggml does not define\n", r.err());
    }

    @Test
    void usageAndVersion() {
        Run r = llamux("--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("info"), r.out());
        assertTrue(r.out().contains("tokenize"), r.out());
        r = llamux("--version");
        assertTrue(r.out().startsWith("llamux "), r.out());
        r = llamux();
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("llamux: missing command"), r.err());
        r = llamux("info");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("llamux: Missing required parameter"), r.err());
    }

}
