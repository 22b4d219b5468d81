package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The multi-row GEMV (batched decode: 5 to {@link Gemv#MAX_ROWS} rows of A against a transposed weight,
 * row blocks of six and four, {@link RowBlockDots}) against a scalar double-precision reference, on odd shapes (K with and without a
 * vector tail, N not a multiple of the four-column groups, M not a multiple of the four-row blocks),
 * non-contiguous views of A (transposed, a strided row slice) and of the weight (a narrowed view at an
 * offset), every weight source (F32 and BF16 on the heap, F32 and BF16 off-heap), accumulation, and 1 or
 * 2 threads. Each row's outputs must also be the very bits of that row multiplied alone (the one-row
 * GEMV), so a sequence decodes to the same logits whether it is batched or not.
 */
class GemvRowsTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
        CpuBackend.setMultiRowGemv(true);
        CpuBackend.setSingleStreamGemv(null);
        RowBlockDots.setTileRows(RowBlockDots.DEFAULT_TILE_ROWS);
        RowBlockDots.setTransposedSums(true);
    }

    @Test
    void rowBlocksOfSixOrFourAndBothLaneSumsGiveTheSameBits() {
        Rng rng = new Rng(33);
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (int m : new int[] {12, 16, 28}) {
                Tensor a = Tensor.uniform(rng, -1f, 1f, m, 515), w = Tensor.uniform(rng, -1f, 1f, 37, 515).to(dt);
                RowBlockDots.setTileRows(6);
                float[] six = Ops.matmul(a, w.t()).toFloatArray();
                RowBlockDots.setTileRows(4);
                RowBlockDots.setTransposedSums(false);
                float[] four = Ops.matmul(a, w.t()).toFloatArray();
                RowBlockDots.setTileRows(RowBlockDots.DEFAULT_TILE_ROWS);
                RowBlockDots.setTransposedSums(true);
                assertArrayEquals(four, six, dt + " m=" + m);
                assertMatches(a, w, null, Tensor.of(six, m, 37), dt + " m=" + m);
            }
        }
    }

    @Test
    void oneRowReadsWeightRowsOneAtATimeOrFourAtATimeWithTheSameBits() {
        Rng rng = new Rng(34);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                for (int k : new int[] {7, 16, 257, 2048}) {
                    int n = 101;
                    Tensor wHeap = Tensor.uniform(rng, -1f, 1f, n, k).to(dt), wOff = offHeap(arena, wHeap);
                    for (Tensor w : new Tensor[] {wHeap, wOff, wOff.narrow(0, 3, n - 8)}) {
                        for (int threads : new int[] {1, 2}) {
                            Parallel.setThreads(threads);
                            Tensor a = Tensor.uniform(rng, -1f, 1f, 1, k), base = Tensor.uniform(rng, -1f, 1f, 1, w.size(0));
                            Tensor acc1 = base.copy(), acc4 = base.copy();
                            CpuBackend.setSingleStreamGemv(true);
                            float[] one = Ops.matmul(a, w.t()).toFloatArray();
                            CpuBackend.INSTANCE.matmul(a, w.t(), acc1, true);
                            CpuBackend.setSingleStreamGemv(false);
                            float[] four = Ops.matmul(a, w.t()).toFloatArray();
                            CpuBackend.INSTANCE.matmul(a, w.t(), acc4, true);
                            CpuBackend.setSingleStreamGemv(null);
                            String what = dt + (w.storage().segment().isNative() ? " off-heap" : " heap") + " k=" + k + " n=" + w.size(0)
                                    + " threads=" + threads;
                            assertArrayEquals(four, one, what);
                            assertArrayEquals(acc4.toFloatArray(), acc1.toFloatArray(), "accumulate " + what);
                            assertMatches(a, w, null, Tensor.of(one, 1, w.size(0)), what);
                            assertMatches(a, w, base.toFloatArray(), acc1, "accumulate " + what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void multiRowProductsMatchTheReferenceAndTheOneRowBits() {
        Rng rng = new Rng(31);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                for (int k : new int[] {7, 64, 257, 1000}) {
                    int n = 203;
                    Tensor wHeap = Tensor.uniform(rng, -1f, 1f, n, k).to(dt), wOff = offHeap(arena, wHeap);
                    for (Tensor w : new Tensor[] {wHeap, wOff, wOff.narrow(0, 3, n - 8), wHeap.narrow(0, 1, n - 2)}) {
                        for (int threads : new int[] {1, 2}) {
                            Parallel.setThreads(threads);
                            for (int m : new int[] {5, 8, 9, 12, 16, 19, 26, 32, 47, 64}) check(rng, w, m, threads, dt);
                        }
                    }
                }
            }
        }
    }

    /** A copy of the (n, k) weight in native memory of {@code arena}, as a mapped checkpoint's weights are. */
    private static Tensor offHeap(Arena arena, Tensor w) {
        MemorySegment seg = arena.allocate(w.storage().byteSize(), 64);
        seg.copyFrom(w.storage().segment());
        return new Tensor(Storage.wrap(seg), w.dtype(), w.shape(), new long[] {w.size(1), 1}, 0);
    }

    private static void check(Rng rng, Tensor w, int m, int threads, DType dt) {
        int k = w.size(1), n = w.size(0);
        String what = dt + (w.storage().segment().isNative() ? " off-heap" : " heap") + " m=" + m + " k=" + k + " n=" + n
                + " threads=" + threads;
        Tensor plain = Tensor.uniform(rng, -1f, 1f, m, k);
        Tensor transposed = Tensor.uniform(rng, -1f, 1f, k, m).t();
        Tensor strided = Tensor.uniform(rng, -1f, 1f, 2 * m + 1, k).narrow(0, 1, 2 * m).view(m, 2, k).select(1, 0);
        for (Tensor a : new Tensor[] {plain, transposed, strided}) {
            Tensor c = Ops.matmul(a, w.t());
            assertMatches(a, w, null, c, what);
            for (int r = 0; r < m; r += 3) {
                float[] alone = Ops.matmul(a.narrow(0, r, 1), w.t()).toFloatArray();
                float[] inBatch = c.narrow(0, r, 1).contiguous().toFloatArray();
                assertArrayEquals(alone, inBatch, what + ": row " + r + " differs from the same row alone");
            }
            Tensor base = Tensor.uniform(rng, -1f, 1f, m, n);
            Tensor acc = base.copy();
            CpuBackend.INSTANCE.matmul(a, w.t(), acc, true);
            assertMatches(a, w, base.toFloatArray(), acc, "accumulate " + what);
        }
        assertTrue(Gemv.handles(StridedMatrix.of(w.t(), 0), m), what + ": not taken by the multi-row GEMV");
    }

    /** |got − Σ a·w| ≤ k · 2⁻²⁴ · Σ|a·w| (+ |base|), the sum in double. */
    private static void assertMatches(Tensor a, Tensor w, float[] base, Tensor got, String what) {
        int m = a.size(0), k = a.size(1), n = w.size(0);
        float[] av = a.contiguous().toFloatArray(), wv = w.contiguous().to(DType.F32).toFloatArray(), g = got.toFloatArray();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = base == null ? 0 : base[i * n + j], abs = base == null ? 0 : Math.abs(base[i * n + j]);
                for (int p = 0; p < k; p++) {
                    double x = (double) av[i * k + p] * wv[j * k + p];
                    s += x;
                    abs += Math.abs(x);
                }
                double tol = k * 0x1p-24 * abs + 1e-30;
                if (!(Math.abs(g[i * n + j] - s) <= tol)) fail(what + " [" + i + "," + j + "]: got " + g[i * n + j] + ", want " + s);
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCountAndAgreeWithTheBlockedGemm() {
        Rng rng = new Rng(32);
        for (int m : new int[] {6, 16, 31}) {
            Tensor a = Tensor.uniform(rng, -1f, 1f, m, 1031), w = Tensor.uniform(rng, -1f, 1f, 2053, 1031);
            Parallel.setThreads(1);
            float[] one = Ops.matmul(a, w.t()).toFloatArray();
            Parallel.setThreads(2);
            float[] two = Ops.matmul(a, w.t()).toFloatArray();
            assertArrayEquals(one, two, "m=" + m);
            CpuBackend.setMultiRowGemv(false);
            Tensor blocked = Ops.matmul(a, w.t());
            CpuBackend.setMultiRowGemv(true);
            assertMatches(a, w, null, blocked, "blocked m=" + m);
            assertMatches(a, w, null, Tensor.of(one, m, 2053), "multi-row m=" + m);
        }
    }
}
