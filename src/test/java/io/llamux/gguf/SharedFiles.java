package io.llamux.gguf;


import io.llamux.testing.Shared;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The reference files in ../shared (read-only, never copied into the repo). */
final class SharedFiles {
    static final Path SHARED = Path.of("..", "shared");
    static final Path MODELS = SHARED.resolve("models");
    static final Path TOKENIZER_TESTS = SHARED.resolve("tokenizer-tests");
    static final Path GOLDEN = SHARED.resolve("golden");

    private SharedFiles() {
    }

    /** Skips the calling test, with a message, when ../shared is not there. */
    static void assumeShared() {
        Shared.require(MODELS);
    }

    /** Every .gguf in ../shared/models and ../shared/tokenizer-tests, sorted. */
    static List<Path> allGguf() {
        assumeShared();
        try (Stream<Path> a = Files.list(MODELS); Stream<Path> b = Files.isDirectory(TOKENIZER_TESTS) ? Files.list(TOKENIZER_TESTS) : Stream.empty()) {
            return Stream.concat(a, b).filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
