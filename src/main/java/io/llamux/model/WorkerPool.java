package io.llamux.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that split a range of independent work items (matrix rows,
 * attention heads) into contiguous slices, one per thread, with the calling thread taking the
 * first slice. Every item is computed by exactly one thread with the same code, so results do
 * not depend on the thread count.
 *
 * <p>Dispatch allocates nothing: the task is a reusable object and the hand-off is an epoch
 * counter. Workers spin briefly (a matmul follows another within microseconds) and then park.
 */
public final class WorkerPool implements AutoCloseable {
    /** Work over items {@code [from, to)}; {@code worker} (0 .. threads-1) picks per-thread scratch. */
    public interface RangeTask {
        void run(int from, int to, int worker);
    }

    private static final int SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long epoch;
    private volatile boolean closed;
    private volatile RangeTask task;
    private volatile int items;
    private volatile Throwable failure;

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1: " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int slice = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("llamux-worker-" + slice).start(() -> work(slice));
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Below this many multiply-adds a job runs on the calling thread: waking the workers costs
     * microseconds (much more on a loaded machine), a small matmul less.
     */
    public static final long MIN_PARALLEL_WORK = 1L << 17;

    /** {@link #run(int, RangeTask)} when the job is worth splitting, else on the calling thread. */
    public void run(int n, RangeTask task, long work) {
        if (work < MIN_PARALLEL_WORK) {
            task.run(0, n, 0);
        } else {
            run(n, task);
        }
    }

    /** Runs {@code task} over {@code [0, n)} on all threads and returns when every slice is done. */
    public void run(int n, RangeTask task) {
        if (threads == 1 || n < 2) {
            task.run(0, n, 0);
            return;
        }
        this.task = task;
        this.items = n;
        this.failure = null;
        pending.set(workers.length);
        epoch++;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
        try {
            task.run(0, sliceEnd(n, 0), 0);
        } finally {
            int spins = 0;
            while (pending.get() != 0) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(f);
        }
    }

    private int sliceEnd(int n, int slice) {
        return (int) ((long) n * (slice + 1) / threads);
    }

    private void work(int slice) {
        long seen = 0;
        while (true) {
            int spins = 0;
            while (epoch == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = epoch;
            int n = items;
            try {
                int from = (int) ((long) n * slice / threads);
                int to = sliceEnd(n, slice);
                if (from < to) {
                    task.run(from, to, slice);
                }
            } catch (Throwable t) {
                failure = t;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
