package io.llamux.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Chunks claimed from one counter: every item exactly once, per-worker indexes in range, failures rethrown. */
class WorkerPoolTest {

    @Test
    void everyItemRunsExactlyOnce() {
        for (int threads = 1; threads <= 4; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int n : new int[]{0, 1, 2, 3, 7, 64, 257, 5632}) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, n));
                    int t = threads;
                    for (int job = 0; job < 20; job++) { // consecutive jobs reuse the counter
                        pool.run(n, (from, to, worker) -> {
                            assertTrue(0 <= worker && worker < t, "worker " + worker);
                            for (int i = from; i < to; i++) {
                                runs.incrementAndGet(i);
                            }
                        });
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(20, runs.get(i), "item " + i + " of " + n + ", " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void aWorkersFailureReachesTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(1000, (from, to, worker) -> {
                if (from <= 999 && 999 < to) {
                    throw new IllegalStateException("item 999");
                }
            }));
            assertEquals("item 999", e.getMessage());
            int[] sum = new int[1];
            pool.run(10, (from, to, worker) -> {
                synchronized (sum) {
                    sum[0] += to - from;
                }
            });
            assertEquals(10, sum[0], "the pool still works after a failure");
        }
    }
}
