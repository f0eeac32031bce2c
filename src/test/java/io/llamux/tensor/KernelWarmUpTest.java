package io.llamux.tensor;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class KernelWarmUpTest {

    @Test
    void everyRepackedFormatRunsOnZeroWeightsToZero() {
        for (GgmlType t : GgmlType.values()) {
            RepackedFormat f = WeightFormats.repacked(t);
            if (f != null) {
                // Zero weights have zero scales: whatever the activations, every product is 0.
                assertEquals(0f, KernelWarmUp.run(f, true), t.name());
            }
        }
    }

    @Test
    void theThreadEndsAndSkipsTypesWithoutALayout() throws InterruptedException {
        Thread t = KernelWarmUp.start(List.of(GgmlType.F32, GgmlType.Q4_0, GgmlType.Q4_0), List.of(GgmlType.Q4_0));
        t.join(120_000);
        assertFalse(t.isAlive(), "warm-up still running after two minutes");
    }
}
