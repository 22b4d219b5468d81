package org.jtune.bench;

import org.jtune.tensor.cpu.CpuBackend;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * `jtune bench gemm`: our F32 matmul against OpenBLAS SGEMM in the same run, at 1 and 2 threads (both
 * libraries set to the same count), on square products (B row-major) and the matrix shapes of a
 * 1B-class LLM layer (B the transposed (N, K) weight of a Linear, as the model uses it), plus the
 * decode GEMV 1×2048×5632 (peer: SGEMV) and the same GEMV on a BF16 weight (no peer; GB/s of weight
 * read). Each line: median GFLOP/s of alternating timed repetitions after warm-up, the peer's figure
 * and ours ÷ peer; the baseline GEMM that the packed kernel replaced is timed on two shapes. Before
 * timing, our result is checked against OpenBLAS's (max relative error printed). Exit code 3 when the
 * one-thread F32 GEMV reads less than 0.6 of SGEMV's speed (a collapse; see {@link #gemvCheck}).
 */
final class GemmBenchmark {
    /** M×K×N and whether B is a transposed weight view. */
    record Shape(int m, int k, int n, boolean weight, boolean baseline) {}

    static final Shape[] SHAPES = {
            new Shape(1024, 1024, 1024, false, true),
            new Shape(2048, 2048, 2048, false, false),
            new Shape(4096, 4096, 4096, false, false),
            new Shape(512, 2048, 2048, true, true),
            new Shape(512, 2048, 5632, true, false),
            new Shape(512, 5632, 2048, true, false),
            new Shape(1, 2048, 5632, true, false),
    };

    private final Timing timing = new Timing(3, 0.5, 5, 1.5);

    int run(boolean json) {
        System.err.println("gemm: " + OpenBlasPeer.describe() + "; load average " + LoadAverage.read());
        int saved = Parallel.threads();
        boolean gemvOk = true;
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                OpenBlasPeer.setThreads(threads);
                for (Shape s : SHAPES) {
                    ResultLine line = measure(s, threads);
                    line.print(json);
                    if (s.m == 1 && threads == 1) gemvOk &= gemvCheck(line);
                }
                bf16Gemv(threads).print(json);
            }
        } finally {
            Parallel.setThreads(saved);
        }
        System.err.println("gemm: done; load average " + LoadAverage.read());
        return gemvOk ? 0 : 3;
    }

    private ResultLine measure(Shape s, int threads) {
        Rng rng = new Rng(42);
        Tensor a = Tensor.uniform(rng, -1f, 1f, s.m, s.k);
        Tensor stored = s.weight ? Tensor.uniform(rng, -1f, 1f, s.n, s.k) : Tensor.uniform(rng, -1f, 1f, s.k, s.n);
        Tensor b = s.weight ? stored.t() : stored;
        Tensor out = Tensor.zeros(s.m, s.n);
        double flops = 2.0 * s.m * s.k * s.n;
        try (OpenBlasPeer peer = new OpenBlasPeer(a.storage().floatArray(), stored.storage().floatArray(), s.m, s.k, s.n, s.weight)) {
            CpuBackend.INSTANCE.matmul(a, b, out, false);
            peer.run();
            double err = maxRelativeError(out.storage().floatArray(), peer.result());
            Timing.Result[] r = timing.pair(() -> CpuBackend.INSTANCE.matmul(a, b, out, false), peer::run);
            ResultLine line = new ResultLine().put("bench", "gemm").put("m", s.m).put("k", s.k).put("n", s.n)
                    .put("b_layout", s.weight ? "weight_t" : "row_major").put("threads", threads)
                    .put("gflops", flops / r[0].median() * 1e-9)
                    .put("peer", "openblas").put("peer_routine", peer.routine())
                    .put("peer_gflops", flops / r[1].median() * 1e-9)
                    .put("ratio", r[1].median() / r[0].median());
            if (s.m == 1) line.put("gb_per_s", 4.0 * s.k * s.n / r[0].median() * 1e-9).put("peer_gb_per_s", 4.0 * s.k * s.n / r[1].median() * 1e-9);
            if (s.baseline) {
                Tensor bc = b.contiguous();
                Timing.Result base = timing.single(() -> BaselineGemm.matmul(a, bc, out, false));
                line.put("baseline_gflops", flops / base.median() * 1e-9);
            }
            return line.put("reps", r[0].reps()).put("spread", Math.max(r[0].spread(), r[1].spread())).put("max_rel_err", err);
        }
    }

    /**
     * The decode GEMV must stream its weight about as fast as SGEMV on one thread (both read the same
     * bytes in the same run, so the ratio stands on a loaded machine): below {@link #GEMV_FLOOR} the
     * bench says so on stderr and exits with 3. It caught the F32 GEMV at 0.2-0.5 of SGEMV.
     */
    private static boolean gemvCheck(ResultLine line) {
        double ratio = line.number("ratio");
        if (ratio >= GEMV_FLOOR) return true;
        System.err.printf("gemm: F32 GEMV collapsed: %.2f of SGEMV on one thread (floor %.2f)%n", ratio, GEMV_FLOOR);
        return false;
    }

    static final double GEMV_FLOOR = 0.6;

    private ResultLine bf16Gemv(int threads) {
        int k = 2048, n = 5632;
        Rng rng = new Rng(43);
        Tensor x = Tensor.uniform(rng, -1f, 1f, 1, k);
        Tensor w = Tensor.uniform(rng, -1f, 1f, n, k).to(DType.BF16);
        Tensor out = Tensor.zeros(1, n);
        Timing.Result r = timing.single(() -> CpuBackend.INSTANCE.matmul(x, w.t(), out, false));
        return new ResultLine().put("bench", "gemm").put("m", 1).put("k", k).put("n", n).put("b_layout", "weight_t")
                .put("b_dtype", "bf16").put("threads", threads)
                .put("gflops", 2.0 * k * n / r.median() * 1e-9).put("gb_per_s", 2.0 * k * n / r.median() * 1e-9)
                .put("reps", r.reps()).put("spread", r.spread());
    }

    /** max |ours − peer| ÷ max |peer| (infinite when NaNs differ): a check that both computed the same product. */
    private static double maxRelativeError(float[] ours, float[] peer) {
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < ours.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(peer[i]));
            maxDiff = Math.max(maxDiff, Math.abs(ours[i] - peer[i]));
            if (Float.isNaN(ours[i]) != Float.isNaN(peer[i])) return Double.POSITIVE_INFINITY;
        }
        return maxDiff / Math.max(maxAbs, 1e-30);
    }
}
