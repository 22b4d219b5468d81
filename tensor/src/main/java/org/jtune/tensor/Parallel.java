package org.jtune.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * The one shared thread pool. A kernel splits its own work into ranges with {@link #forRange} (one
 * balanced range per thread, which the calling thread and a pool thread claim) or {@link #forClaimed}
 * (several smaller pieces that the threads claim as they go, for memory-bound work whose time is set by
 * its slowest thread). Calls from inside a pool task run sequentially
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
    private static volatile boolean claiming = !"false".equals(System.getProperty("jtune.parallel.claim"));

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
     * Whether {@link #forClaimed} hands out pieces dynamically (the default) or, when false, falls back
     * to one balanced range per thread as {@link #forRange} does: the split used before, kept so that a
     * benchmark can compare both in one run (system property {@code jtune.parallel.claim=false}).
     */
    public static void setClaiming(boolean on) {
        claiming = on;
    }

    public static boolean claiming() {
        return claiming;
    }

    /**
     * How long, in microseconds, a pool thread that helped a {@link #forClaimed} call keeps spinning for its caller's next
     * call before it parks ({@link ClaimedRanges}; system property {@code jtune.parallel.lingerMicros}, default 200; 0
     * parks at once). Settable so that a benchmark can compare both in one run.
     */
    public static void setLingerMicros(long micros) {
        if (micros < 0) throw new IllegalArgumentException("linger must be >= 0 µs, got " + micros);
        ClaimedRanges.lingerNanos = micros * 1000L;
    }

    /** How many ranges {@link #forRange} cuts [0, n) into at {@code threads} threads: at most one per thread and at most ⌈n / grain⌉. */
    public static int chunks(int n, int grain, int threads) {
        int g = Math.max(grain, 1);
        return (int) Math.max(1, Math.min(threads, (n + (long) g - 1) / g));
    }

    /** Start of range {@code c} of {@code chunks} balanced contiguous ranges over [0, n) (range c ends where c + 1 starts). */
    public static int start(int n, int c, int chunks) {
        return (int) ((long) n * c / chunks);
    }

    /**
     * Runs {@code body} over [0, n) cut into {@code pieces} balanced contiguous ranges (piece p is
     * [{@link #start start}(n, p, pieces), start(n, p + 1, pieces))), which up to {@link #threads()}
     * threads, the caller first, claim one at a time ({@link ClaimedRanges}): a thread that is slow or
     * descheduled holds back one piece, not a whole share. Allocation-free per call. Calls from inside a
     * pool task, one piece, or one thread run every piece in order on the calling thread.
     */
    public static void forClaimed(int n, int pieces, RangeBody body) {
        int p = Math.max(1, Math.min(pieces, n));
        if (n <= 0) return;
        if (p == 1 || threads <= 1 || ForkJoinTask.inForkJoinPool()) {
            for (int c = 0; c < p; c++) body.run(start(n, c, p), start(n, c + 1, p));
            return;
        }
        if (!claiming) {
            forRange(n, (n + p - 1) / p, body);
            return;
        }
        ClaimedRanges.run(POOL, n, p, threads, body);
    }

    /**
     * {@link #forClaimed} cut as a range loop would be, for kernels whose pieces are independent (elementwise and
     * row-wise ops: their results do not depend on the cut): up to {@code perThread} pieces per thread of at least
     * {@code grain} items each. On a shared machine the caller starts at once and takes the pieces of a pool thread
     * that wakes late, instead of waiting for it to be scheduled as {@link #forRange}'s join does (a 128-token
     * prefill makes ~180 such small calls besides its products), and a descheduled thread holds back one piece.
     */
    public static void forPieces(int n, int grain, int perThread, RangeBody body) {
        long g = Math.max(grain, 1);
        forClaimed(n, (int) Math.max(1, Math.min((long) perThread * threads, (n + g - 1) / g)), body);
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} contiguous ranges of at least
     * {@code grain} items each. Small work stays on the calling thread. The ranges are claimed like
     * {@link #forClaimed}'s pieces (the same ranges, whichever thread runs them), so that a pool thread lingering
     * after a claimed call takes them instead of the pool starting another thread beside it.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int chunks = chunks(n, grain, threads);
        if (chunks <= 1 || ForkJoinTask.inForkJoinPool()) {
            if (n > 0) body.run(0, n);
            return;
        }
        if (claiming) { // the same ranges, claimed: a helper lingering after a claimed call takes them (see ClaimedRanges)
            ClaimedRanges.run(POOL, n, chunks, threads, body);
            return;
        }
        @SuppressWarnings("unchecked")
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int from = start(n, c, chunks), to = start(n, c + 1, chunks);
            tasks[c - 1] = POOL.submit(() -> body.run(from, to));
        }
        Throwable failure = null;
        try {
            body.run(0, start(n, 1, chunks));
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
