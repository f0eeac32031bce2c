package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.gguf.GgufTestWriter;
import io.llamux.tensor.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** GoldenLogitsTest fails, never skips, a golden file it cannot check. */
class GoldenLogitsFailuresTest {
    @TempDir
    Path models;

    @Test
    void aMissingModelFails() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GoldenLogitsTest.runnableModel(models, "synthetic-gone"));
        assertTrue(e.getMessage().contains("synthetic-gone.gguf is missing"), e.getMessage());
    }

    @Test
    void anUnsupportedWeightTypeFails() throws IOException {
        Files.write(models.resolve("iq.gguf"), new GgufTestWriter().str("general.architecture", "llama")
                .u32("llama.block_count", 1)
                .tensor("blk.0.ffn_up.weight", GgmlType.IQ2_XS, 256, 4)
                .tensor("output_norm.weight", GgmlType.F32, 256).build());
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GoldenLogitsTest.runnableModel(models, "iq"));
        assertTrue(e.getMessage().contains("blk.0.ffn_up.weight has weight type IQ2_XS"), e.getMessage());
    }

    @Test
    void anUnsupportedArchitectureFails() throws IOException {
        Files.write(models.resolve("mamba.gguf"), new GgufTestWriter().str("general.architecture", "mamba")
                .u32("mamba.block_count", 1)
                .tensor("output_norm.weight", GgmlType.F32, 256).build());
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GoldenLogitsTest.runnableModel(models, "mamba"));
        assertTrue(e.getMessage().contains("architecture mamba is not supported"), e.getMessage());
    }

    @Test
    void missingReferenceDataSkipsOnlyOutsideCi() {
        Path absent = models.resolve("no-such-dir");
        assertThrows(TestAbortedException.class, () -> io.llamux.testing.Shared.require(absent, false));
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> io.llamux.testing.Shared.require(absent, true));
        assertTrue(e.getMessage().contains("CI=true"), e.getMessage());
    }
}
