package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.llamux.gguf.GgufFile;
import io.llamux.testing.Shared;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Q, K and V (and gate and up) as one job for the pool give each weight's own matmul bit for
 * bit: for repacked weights that share one converted input (Q4_0, Q8_0), weights of several
 * types that do not all share it (the mixed Q4_K_M file), file-layout weights (Q5_0) and F32,
 * for one token (matrix-vector kernels) and a batch (the prompt kernels).
 */
class FusedLinearTest {
    private static final Path MODELS = Path.of("../shared/models");

    @ParameterizedTest
    @ValueSource(strings = {"synthetic-Q4_0.gguf", "synthetic-Q8_0.gguf", "synthetic-Q4_K_M-mixed.gguf",
            "synthetic-Q5_0.gguf", "synthetic-F32.gguf"})
    void oneJobGivesEachWeightsOwnProduct(String file) throws Exception {
        Path model = MODELS.resolve(file);
        Shared.require(model);
        try (GgufFile f = GgufFile.open(model); WorkerPool pool = new WorkerPool(2); Arena arena = Arena.ofShared()) {
            ModelWeights w = ModelWeights.load(f, new LinearFactory(8, pool, arena));
            for (LlamaBlock.Layer layer : ((LlamaBlock.Weights) w.blocks).layers()) {
                for (int batch : new int[]{1, 7}) {
                    check(new Linear[]{layer.wq(), layer.wk(), layer.wv()}, batch, pool, file);
                    check(new Linear[]{layer.gate(), layer.up()}, batch, pool, file);
                }
            }
        }
    }

    private static void check(Linear[] ls, int batch, WorkerPool pool, String file) {
        Random rnd = new Random(batch);
        float[] x = new float[batch * ls[0].cols()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[][] fused = new float[3][];
        float[][] alone = new float[3][];
        for (int i = 0; i < ls.length; i++) {
            fused[i] = new float[batch * ls[i].rows()];
            alone[i] = new float[batch * ls[i].rows()];
            ls[i].matmul(x, batch, alone[i], pool);
        }
        // Another input through each weight, so that a shared buffer left holding it would show.
        float[] other = new float[x.length];
        for (int i = 0; i < ls.length; i++) {
            ls[ls.length - 1 - i].matmul(other, batch, new float[batch * ls[ls.length - 1 - i].rows()], pool);
        }
        new Linear.Fused(ls).matmul(x, batch, fused[0], fused[1], fused[2], pool);
        for (int i = 0; i < ls.length; i++) {
            assertArrayEquals(alone[i], fused[i], 0f, file + " " + ls[i].name() + ", batch " + batch);
        }
    }
}
