package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import io.llamux.gguf.GgufFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The decode loop allocates nothing once compiled. In a JVM of its own (pom.xml's
 * token-loop-allocation execution): what C2 inlines, and so whether vectors are boxed, depends
 * on the profiles other tests left behind; a daemon that only ever decodes has none of those.
 */
class TokenLoopAllocationTest {
    private static final Path MODELS = Path.of("../shared/models");

    @Test
    void theTokenLoopAllocatesNothing() throws Exception {
        Shared.require(MODELS);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        // F32 weights: the forward pass's own code without the quantized kernels, which have
        // their own allocation budget in io.llamux.tensor.
        for (String m : new String[]{"synthetic-F32"}) {
            try (GgufFile f = GgufFile.open(MODELS.resolve(m + ".gguf"));
                 WorkerPool pool = new WorkerPool(1)) {
                Transformer t = new Transformer(ModelWeights.load(f, new LinearFactory(16)), pool, 256, 16);
                int[] token = {7};
                for (int i = 0; i < 3_000; i++) { // warm up: the JIT must compile the vector code
                    t.forward(token, 0, 1, i % 200, false);
                }
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 100; i++) {
                    t.forward(token, 0, 1, i, false);
                }
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                System.out.println(m + ": 100 decode steps allocated " + allocated + " bytes");
                assertTrue(allocated < 1024, m + ": 100 decode steps allocated " + allocated + " bytes");
            }
        }
    }

}
