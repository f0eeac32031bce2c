package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llamux.gguf.GgufFile;
import io.llamux.sampling.Sampler;
import io.llamux.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass against llama.cpp's logits in ../shared/golden, for every golden file
 * there, fed the golden prompt token ids (the tokenizer has its own tests). None is excused:
 * a golden file whose model is missing, or whose architecture or weight type the engine does
 * not run, fails. Only a missing ../shared/golden skips, and not under CI ({@link Shared}).
 *
 * <p>Tolerances (../shared/golden/README.md, "Numerical caveats"):
 * <ul>
 *   <li>F32 weights: 1e-4 × max|logit|. The golden runs use f32 throughout, and an fp64
 *       forward pass agrees with them to ≤6e-6 on stories260K (logit span ≈30); what is left
 *       is float summation order (SIMD widths differ from ggml's AVX2 code), about 1e-6
 *       relative, so 1e-4 relative leaves a wide margin while catching any real error.</li>
 *   <li>Every other type: 1e-3 absolute. With the activations converted as llama.cpp does
 *       (F16, BF16, Q8_0, Q8_1, Q8_K), an fp64 pass emulating the conversion matched to 1e-7;
 *       without it the error is 5e-4 (F16) to 2.7e-2 (K-quants). 1e-3 therefore proves the
 *       conversion is reproduced, while allowing for the rare quantized activation that
 *       rounds the other way after a float-order difference.</li>
 * </ul>
 * Greedy: stories260K (min margin 0.06) must continue identically; the synthetic models'
 * near-flat logits are checked teacher-forced, at steps whose margin exceeds 2e-3.
 */
class GoldenLogitsTest {
    private static final Path GOLDEN = Path.of("../shared/golden");
    private static final Path MODELS = Path.of("../shared/models");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ABSENT = "(../shared/golden is absent)";
    private static final List<String> SUPPORTED_ARCHITECTURES = List.of("llama", "qwen2", "gpt2");

    static Stream<String> models() throws IOException {
        if (!Files.isDirectory(GOLDEN)) {
            return Stream.of(ABSENT);
        }
        List<String> stems = new ArrayList<>();
        try (Stream<Path> files = Files.list(GOLDEN)) {
            for (Path p : files.sorted().toList()) {
                String f = p.getFileName().toString();
                if (!f.endsWith(".json") || f.startsWith("tokenizer-")) {
                    continue;
                }
                stems.add(f.substring(0, f.length() - 5));
            }
        }
        return stems.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void matchesLlamaCpp(String stem) throws IOException {
        if (stem.equals(ABSENT)) {
            Shared.require(GOLDEN); // skips, or fails under CI
        }
        JsonNode golden = JSON.readTree(GOLDEN.resolve(stem + ".json").toFile());
        try (GgufFile file = runnableModel(MODELS, stem);
             WorkerPool pool = new WorkerPool(2)) {
            ModelWeights weights = ModelWeights.load(file, new LinearFactory(64));
            boolean f32 = allF32(weights);
            boolean robust = stem.equals("stories260K");
            List<String> failures = new ArrayList<>();
            for (JsonNode kase : golden.get("cases")) {
                String name = stem + "/" + kase.get("name").asText();
                try {
                    checkCase(kase, name, weights, pool, f32, robust);
                } catch (AssertionError e) {
                    failures.add(e.getMessage());
                }
            }
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.size() + " case(s) differ from llama.cpp:\n  " + String.join("\n  ", failures));
            }
        }
    }

    /**
     * The golden {@code stem}'s model in {@code models}, opened, once it is certain the engine
     * runs it: a missing file, an architecture or a weight type the engine does not run fails
     * the test (GoldenLogitsFailuresTest checks that it does).
     */
    static GgufFile runnableModel(Path models, String stem) throws IOException {
        Path model = models.resolve(stem + ".gguf");
        assertTrue(Files.exists(model), "golden " + stem + ".json has no model: " + model + " is missing");
        GgufFile file = GgufFile.open(model);
        try {
            String arch = file.architecture();
            assertTrue(SUPPORTED_ARCHITECTURES.contains(arch), model + ": architecture " + arch + " is not supported");
            for (io.llamux.gguf.TensorInfo ti : file.tensors()) {
                assertTrue(ti.dims() == 1 || LinearFactory.supports(ti.type()),
                        model + ": tensor " + ti.name() + " has weight type " + ti.type() + ", which the engine does not run");
            }
            return file;
        } catch (Throwable t) {
            file.close();
            throw t;
        }
    }

    /** The goldens were made with llama.cpp's {@code -ctk f32 -ctv f32}: the cache must be F32 here. */
    private static final KvCache.Type GOLDEN_CACHE = KvCache.Type.F32;

    private static void checkCase(JsonNode kase, String name, ModelWeights weights, WorkerPool pool, boolean f32,
                                  boolean robust) {
        {
            {
                int[] prompt = ints(kase.get("prompt_tokens"));
                int[] greedy = ints(kase.get("greedy_ids"));
                Transformer t = new Transformer(weights, pool, 256, 64, GOLDEN_CACHE, GOLDEN_CACHE);

                float[] last = t.forward(prompt, 0, prompt.length, 0, false).clone();
                float[] expected = floats(kase.get("last_logits"));
                assertClose(name + " last_logits", expected, last, tolerance(f32, expected));
                assertEquals(greedy[0], Sampler.argmax(last, last.length), name + " first greedy token");

                float[] decode = t.forward(greedy, 0, 1, prompt.length, false);
                float[] expectedDecode = floats(kase.get("decode_logits_after_first_greedy_token"));
                assertClose(name + " decode logits", expectedDecode, decode, tolerance(f32, expectedDecode));

                if (robust) {
                    int[] ids = new int[greedy.length];
                    ids[0] = greedy[0];
                    ids[1] = Sampler.argmax(decode, decode.length);
                    for (int i = 2; i < ids.length; i++) {
                        float[] l = t.forward(ids, i - 1, 1, prompt.length + i - 1, false);
                        ids[i] = Sampler.argmax(l, l.length);
                    }
                    assertArrayEquals(greedy, ids, name + " greedy continuation");
                } else {
                    // Teacher-forced: prompt + greedy[:-1] in one pass; row i predicts greedy[i].
                    int[] all = new int[prompt.length + greedy.length - 1];
                    System.arraycopy(prompt, 0, all, 0, prompt.length);
                    System.arraycopy(greedy, 0, all, prompt.length, greedy.length - 1);
                    Transformer tf = new Transformer(weights, pool, 256, 64, GOLDEN_CACHE, GOLDEN_CACHE);
                    float[] logits = tf.forward(all, 0, all.length, 0, true);
                    int vocab = weights.config.vocabSize();
                    JsonNode margins = kase.get("greedy_step_margin");
                    for (int i = 0; i < greedy.length; i++) {
                        if (margins.get(i).asDouble() <= 2e-3) {
                            continue;
                        }
                        float[] row = java.util.Arrays.copyOfRange(logits, (prompt.length - 1 + i) * vocab,
                                (prompt.length + i) * vocab);
                        assertEquals(greedy[i], Sampler.argmax(row, vocab), name + " teacher-forced step " + i);
                    }
                }
            }
        }
    }

    private static boolean allF32(ModelWeights w) {
        if (w.tokenEmbedding.type() != io.llamux.tensor.GgmlType.F32 || w.output.type() != io.llamux.tensor.GgmlType.F32) {
            return false;
        }
        for (Linear m : w.blocks.matrices()) {
            if (m.type() != io.llamux.tensor.GgmlType.F32) {
                return false;
            }
        }
        return true;
    }

    private static float tolerance(boolean f32, float[] expected) {
        if (!f32) {
            return 1e-3f;
        }
        float max = 0;
        for (float v : expected) {
            max = Math.max(max, Math.abs(v));
        }
        return 1e-4f * max;
    }

    static void assertClose(String what, float[] expected, float[] actual, float tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        float worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        System.out.printf("%s: max |diff| %.3g (tolerance %.3g)%n", what, worst, tol);
        if (!(worst <= tol)) {
            throw new AssertionError(what + ": max |diff| " + worst + " at id " + at + " (expected "
                    + expected[at] + ", got " + actual[at] + ") exceeds " + tol);
        }
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    static float[] floats(JsonNode a) {
        float[] r = new float[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) a.get(i).asDouble();
        }
        return r;
    }
}
