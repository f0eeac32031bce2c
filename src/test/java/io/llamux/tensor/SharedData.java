package io.llamux.tensor;


import io.llamux.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * The reference models and ggml dequantization goldens in ../shared (read-only, never copied
 * into the repository). Tests skip when it is absent.
 */
final class SharedData {

    static final Path ROOT = Path.of("../shared");
    static final Path DEQUANT = ROOT.resolve("golden/dequant");
    static final Path MODELS = ROOT.resolve("models");

    private SharedData() {
    }

    static void assumePresent() {
        Shared.require(DEQUANT);
        Shared.require(MODELS);
    }

    /** Model stems that have a dequantization golden, sorted. */
    static List<String> dequantModels() {
        if (!Files.isDirectory(DEQUANT)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(DEQUANT)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode golden(String model) {
        try {
            return new ObjectMapper().readTree(DEQUANT.resolve(model + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The whole .gguf file, mapped read-only for the life of the test JVM. */
    static MemorySegment map(String model) {
        try (FileChannel ch = FileChannel.open(MODELS.resolve(model + ".gguf"), StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One tensor of a golden file, with what the tests need to address its rows. */
    record Tensor(String model, String name, GgmlType type, int n, int rows, long offset, JsonNode json) {

        static Tensor of(String model, JsonNode t) {
            GgmlType type = GgmlType.valueOf(t.get("type").asText());
            assert type.id == t.get("type_id").asInt();
            JsonNode ne = t.get("ne");
            int rows = 1;
            for (int i = 1; i < ne.size(); i++) {
                rows *= ne.get(i).asInt();
            }
            return new Tensor(model, t.get("name").asText(), type, ne.get(0).asInt(), rows,
                    t.get("data_offset_in_file").asLong(), t);
        }

        long rowOffset(int row) {
            return offset + row * type.bytesFor(n);
        }

        @Override
        public String toString() {
            return model + ":" + name + " (" + type + ", " + n + " x " + rows + ")";
        }
    }

    static List<Tensor> tensors(String model) {
        JsonNode root = golden(model);
        return Stream.iterate(0, i -> i < root.get("tensors").size(), i -> i + 1)
                .map(i -> Tensor.of(model, root.get("tensors").get(i))).toList();
    }
}
