package org.jtune.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * `jtune bench gemv`: the latency distribution of the decode GEMV, not only its median. The product
 * 1×2048×5632 (one MLP projection of a 1B-class model, 46 MB of F32 or 23 MB of BF16 weight) is timed
 * call by call at 1 and 2 threads, cycling through copies of the weight so that it streams from memory,
 * with the two splits alternating call by call in the same run: pieces claimed by the threads as they go
 * ({@link Parallel#forClaimed}, the default) and one balanced range per thread (the split before). Each
 * line: p50, p90, p99 and max in milliseconds, the p50 as GB/s of weight read, and the load average.
 * Then batched decode ({@code gemv_rows} lines): m = 8, 16, 32 rows against the same F32 weight through
 * the multi-row GEMV and the blocked GEMM, alternating, beside m = 1, with the weight on the heap and off
 * the heap (the path of a memory-mapped checkpoint). The weight copies above (138 MB of F32) may stay in a large
 * last-level cache; {@code gemv_mapped} lines ({@link MappedGemvBandwidth}) time the GEMV over 1.1 GB of mapped
 * weights from DRAM beside a plain read loop in the same JVM.
 */
final class GemvBenchmark {
    private static final int K = 2048, N = 5632, COPIES = 3;
    private static final double WARMUP_SECONDS = 2, TIMED_SECONDS = 6;

    int run(boolean json) throws Exception {
        System.err.println("gemv: load average " + LoadAverage.read());
        int saved = Parallel.threads();
        boolean savedClaiming = Parallel.claiming();
        try {
            // -Djtune.bench.gemv.rowsOnly=true (through JTUNE_JAVA_OPTS) skips the split comparison
            boolean mappedOnly = Boolean.getBoolean("jtune.bench.gemv.mappedOnly");
            for (DType dt : Boolean.getBoolean("jtune.bench.gemv.rowsOnly") || mappedOnly ? new DType[0] : new DType[] {DType.F32, DType.BF16}) {
                Rng rng = new Rng(7);
                Tensor x = Tensor.uniform(rng, -1f, 1f, 1, K);
                Tensor[] w = new Tensor[COPIES];
                for (int i = 0; i < COPIES; i++) w[i] = Tensor.uniform(rng, -1f, 1f, N, K).to(dt);
                Tensor out = Tensor.zeros(1, N);
                for (int threads : new int[] {1, 2}) {
                    Parallel.setThreads(threads);
                    String load = LoadAverage.read();
                    double[][] t = timeAlternating(x, w, out);
                    String[] split = {"claimed", "one_range_per_thread"};
                    for (int s = 0; s < 2; s++) {
                        double[] ms = t[s];
                        new ResultLine().put("bench", "gemv").put("m", 1).put("k", K).put("n", N).put("b_dtype", dt.name().toLowerCase())
                                .put("threads", threads).put("split", split[s])
                                .put("p50_ms", pct(ms, 0.5)).put("p90_ms", pct(ms, 0.9)).put("p99_ms", pct(ms, 0.99))
                                .put("max_ms", ms[ms.length - 1])
                                .put("gb_per_s", (double) dt.byteSize() * K * N / (pct(ms, 0.5) * 1e-3) * 1e-9)
                                .put("calls", ms.length).put("load", load).print(json);
                    }
                }
            }
            if (!"false".equals(System.getProperty("jtune.bench.gemv.mapped"))) MappedGemvBandwidth.run(json);
            if (!mappedOnly) multiRow(json);
        } finally {
            Parallel.setThreads(saved);
            Parallel.setClaiming(savedClaiming);
            CpuBackend.setMultiRowGemv(true);
        }
        System.err.println("gemv: done; load average " + LoadAverage.read());
        return 0;
    }

    /**
     * Batched decode: (m, 2048)·(2048, 5632)ᵀ for m = 8, 16, 32 with the multi-row GEMV (each weight row
     * streamed once for all m rows) and the blocked GEMM (which packs the whole weight per call),
     * alternating call by call; m = 1 is the one-weight-pass reference. Median milliseconds.
     */
    private static void multiRow(boolean json) {
        Rng rng = new Rng(9);
        Tensor[] heap = new Tensor[COPIES], offHeap = new Tensor[COPIES];
        Arena arena = Arena.ofShared();
        for (int i = 0; i < COPIES; i++) {
            heap[i] = Tensor.uniform(rng, -1f, 1f, N, K);
            MemorySegment seg = arena.allocate(heap[i].storage().byteSize(), 64);
            seg.copyFrom(heap[i].storage().segment());
            offHeap[i] = new Tensor(Storage.wrap(seg), DType.F32, new int[] {N, K}, new long[] {K, 1}, 0);
        }
        try {
            for (Tensor[] w : new Tensor[][] {heap, offHeap}) multiRow(json, rng, w, w == heap ? "heap" : "off_heap");
        } finally {
            arena.close();
        }
    }

    private static void multiRow(boolean json, Rng rng, Tensor[] w, String storage) {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int m : new int[] {1, 8, 16, 32}) {
                Tensor x = Tensor.uniform(rng, -1f, 1f, m, K);
                Tensor out = Tensor.zeros(m, N);
                String load = LoadAverage.read();
                double[][] t = time(w, i -> CpuBackend.setMultiRowGemv(i == 0), x, out, m == 1 ? 1 : 2);
                String[] path = {"multi_row_gemv", "blocked_gemm"};
                for (int s = 0; s < (m == 1 ? 1 : 2); s++) {
                    new ResultLine().put("bench", "gemv_rows").put("m", m).put("k", K).put("n", N).put("b_dtype", "f32").put("b_storage", storage)
                            .put("threads", threads).put("path", m == 1 ? "gemv" : path[s])
                            .put("p50_ms", pct(t[s], 0.5)).put("p90_ms", pct(t[s], 0.9))
                            .put("gflops", 2.0 * m * K * N / (pct(t[s], 0.5) * 1e-3) * 1e-9)
                            .put("calls", t[s].length).put("load", load).print(json);
                }
            }
        }
    }

    private interface Contender {
        void setUp(int which);
    }

    /** Sorted per-call milliseconds of each of {@code ways} set-ups, alternating call by call over the weight copies. */
    private static double[][] time(Tensor[] w, Contender setUp, Tensor x, Tensor out, int ways) {
        long end = System.nanoTime() + (long) (1.5e9);
        for (int cycle = 0; System.nanoTime() < end; cycle++) {
            setUp.setUp(cycle % ways);
            CpuBackend.INSTANCE.matmul(x, w[cycle % COPIES].t(), out, false);
        }
        double[][] t = new double[ways][100_000];
        int n = 0;
        double total = 0;
        while ((total < 3 || n < 10) && n < t[0].length) {
            for (int s = 0; s < ways; s++) {
                setUp.setUp(s);
                Tensor wt = w[(n * ways + s) % COPIES].t();
                long t0 = System.nanoTime();
                CpuBackend.INSTANCE.matmul(x, wt, out, false);
                double ms = (System.nanoTime() - t0) * 1e-6;
                t[s][n] = ms;
                total += ms * 1e-3;
            }
            n++;
        }
        double[][] sorted = new double[ways][];
        for (int s = 0; s < ways; s++) {
            sorted[s] = Arrays.copyOf(t[s], n);
            Arrays.sort(sorted[s]);
        }
        return sorted;
    }

    /** Per-call milliseconds, sorted, of the claimed split [0] and the one-range split [1], alternating call by call. */
    private static double[][] timeAlternating(Tensor x, Tensor[] w, Tensor out) {
        int cycle = 0;
        for (long end = System.nanoTime() + (long) (WARMUP_SECONDS * 1e9); System.nanoTime() < end; cycle++) {
            Parallel.setClaiming(cycle % 2 == 0);
            CpuBackend.INSTANCE.matmul(x, w[cycle % COPIES].t(), out, false);
        }
        double[][] t = new double[2][200_000];
        int n = 0;
        double total = 0;
        while (total < TIMED_SECONDS && n < t[0].length) {
            for (int s = 0; s < 2; s++) {
                Parallel.setClaiming(s == 0);
                Tensor wt = w[(n * 2 + s) % COPIES].t();
                long t0 = System.nanoTime();
                CpuBackend.INSTANCE.matmul(x, wt, out, false);
                double ms = (System.nanoTime() - t0) * 1e-6;
                t[s][n] = ms;
                total += ms * 1e-3;
            }
            n++;
        }
        double[][] sorted = {Arrays.copyOf(t[0], n), Arrays.copyOf(t[1], n)};
        Arrays.sort(sorted[0]);
        Arrays.sort(sorted[1]);
        return sorted;
    }

    private static double pct(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }
}
