package org.jtune.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The one shared thread pool. A kernel splits its own work into ranges with {@link #forRange};
 * the calling thread runs the first range itself. Calls from inside a pool task run sequentially
 * (no nested parallelism). Thread count: system property jtune.threads, env JTUNE_THREADS, else the
 * number of cores; changeable at run time (benchmarks compare 1 and 2 threads).
 */
public final class Parallel {
    /** Work on {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final ForkJoinPool POOL;
    private static volatile int threads;

    static {
        int cores = Runtime.getRuntime().availableProcessors();
        POOL = new ForkJoinPool(Math.max(1, cores), pool -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setDaemon(true);
            t.setName("jtune-worker-" + t.getPoolIndex());
            return t;
        }, null, false);
        threads = configured(cores);
    }

    private Parallel() {}

    private static int configured(int cores) {
        String s = System.getProperty("jtune.threads", System.getenv("JTUNE_THREADS"));
        if (s == null || s.isBlank()) return cores;
        try {
            return Math.max(1, Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            return cores;
        }
    }

    public static int threads() {
        return threads;
    }

    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        threads = n;
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous ranges of at least
     * {@code grain} items each. Small work stays on the calling thread.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int t = threads;
        int chunks = (int) Math.min(t, (n + (long) Math.max(grain, 1) - 1) / Math.max(grain, 1));
        if (chunks <= 1 || ForkJoinTask.inForkJoinPool()) {
            if (n > 0) body.run(0, n);
            return;
        }
        @SuppressWarnings("unchecked")
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(from, to));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (Throwable e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : tasks) {
            try {
                task.join();
            } catch (Throwable e) {
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new RuntimeException(failure);
    }
}
