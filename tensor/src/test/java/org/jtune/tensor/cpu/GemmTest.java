package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jtune.tensor.Backend;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU matmul against a scalar double-precision reference. Tolerance per element of C:
 * |got − want| ≤ K · 2⁻²⁴ · Σ_k |a_ik|·|b_kj| (the first-order bound of F32 recursive summation with
 * one rounding per fused multiply-add), with NaN exactly where the reference is NaN and equal
 * infinities. Shapes cover 1, 7, 33, 100 and 257 in every dimension (edge tiles of the 8×32 kernel,
 * several K slices of 256), transposed, sliced and broadcast operands, BF16/F16 and off-heap B, the
 * GEMV path (M ≤ 4), accumulation, and 1 vs 2 threads (results must be bitwise equal).
 */
class GemmTest {
    private static final int[] SIZES = {1, 7, 33, 100, 257};
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    /** want and the |a||b| sums of one product, for each batch item, in row-major order. */
    private record Reference(double[] want, double[] absSum, int k) {}

    private static Reference reference(Tensor a, Tensor b) {
        // a (.., M, K) and b (.., K, N) with equal batch dims
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        float[] av = a.toFloatArray(), bv = b.toFloatArray();
        int batch = (int) (a.numel() / Math.max(1, (long) m * k));
        if (k == 0) batch = (int) (Tensor.numel(java.util.Arrays.copyOf(a.shape(), a.rank() - 2)));
        double[] want = new double[batch * m * n], abs = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, sa = 0;
                    for (int p = 0; p < k; p++) {
                        double x = av[(bi * m + i) * k + p], y = bv[(bi * k + p) * n + j];
                        s += x * y;
                        sa += Math.abs(x * y);
                    }
                    want[(bi * m + i) * n + j] = s;
                    abs[(bi * m + i) * n + j] = sa;
                }
            }
        }
        return new Reference(want, abs, k);
    }

    private static void assertMatches(Reference ref, double[] base, Tensor got, String what) {
        float[] g = got.toFloatArray();
        assertEquals(ref.want.length, g.length, what + ": element count");
        for (int i = 0; i < g.length; i++) {
            double w = ref.want[i] + (base == null ? 0 : base[i]);
            double v = g[i];
            if (Double.isNaN(w)) {
                assertTrue(Double.isNaN(v), what + " [" + i + "]: got " + v + ", want NaN");
            } else if (Double.isInfinite(w)) {
                assertEquals(w, v, what + " [" + i + "]: infinity");
            } else {
                double tol = Math.max(ref.k, 1) * 0x1p-24 * (ref.absSum[i] + (base == null ? 0 : Math.abs(base[i]))) + 1e-30;
                if (!(Math.abs(v - w) <= tol)) fail(what + " [" + i + "]: got " + v + ", want " + w + " (tol " + tol + ")");
            }
        }
    }

    private static Tensor random(Rng rng, int... shape) {
        return Tensor.uniform(rng, -1f, 1f, shape);
    }

    /** The same values as (rows, cols), either contiguous or as the transpose of a (cols, rows) tensor. */
    private static Tensor layout(Tensor x, boolean transposed) {
        return transposed ? x.t().contiguous().t() : x;
    }

    @Test
    void allSizeCombinationsWithBothLayoutsMatchTheReference() {
        Rng rng = new Rng(1);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int m : SIZES) for (int k : SIZES) for (int n : SIZES) {
                boolean at = rng.nextInt(2) == 0, bt = rng.nextInt(2) == 0;
                Tensor a = layout(random(rng, m, k), at), b = layout(random(rng, k, n), bt);
                Tensor c = Ops.matmul(a, b);
                assertMatches(reference(a, b), null, c, "threads " + threads + " " + m + "x" + k + "x" + n + " aT=" + at + " bT=" + bt);
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Rng rng = new Rng(2);
        for (int[] s : new int[][] {{257, 300, 129}, {33, 513, 700}, {1, 1000, 257}, {3, 257, 100}}) {
            Tensor a = random(rng, s[0], s[1]), b = random(rng, s[2], s[1]).t();
            Parallel.setThreads(1);
            float[] one = Ops.matmul(a, b).toFloatArray();
            Parallel.setThreads(2);
            float[] two = Ops.matmul(a, b).toFloatArray();
            assertArrayEquals(one, two, java.util.Arrays.toString(s));
        }
    }

    @Test
    void slicedAndTransposedViewsNeedNoCopy() {
        Rng rng = new Rng(3);
        Tensor bigA = random(rng, 80, 140), bigB = random(rng, 120, 90);
        Tensor a = bigA.slice(0, 3, 80, 2).narrow(1, 5, 100);          // (39, 100), row stride 280
        Tensor b = bigB.narrow(0, 7, 100).slice(1, 1, 90, 3);           // (100, 30), col stride 3
        assertMatches(reference(a, b), null, Ops.matmul(a, b), "sliced");
        Tensor at = random(rng, 120, 50).t().narrow(0, 0, 33);         // (33, 120), row stride 1
        Tensor b2 = bigB.narrow(1, 0, 39);                              // (120, 39), row stride 90
        assertMatches(reference(at, b2), null, Ops.matmul(at, b2), "transposed A");
        Tensor col = random(rng, 100);
        assertMatches(reference(a, col.unsqueeze(1)), null, Ops.matmul(a, col), "matrix · vector");
    }

    @Test
    void batchedWithBroadcastBatchDims() {
        Rng rng = new Rng(4);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            Tensor a = random(rng, 3, 1, 33, 70), b = random(rng, 4, 70, 41);
            Tensor c = Ops.matmul(a, b);
            assertArrayEquals(new int[] {3, 4, 33, 41}, c.shape());
            Tensor ae = a.expand(3, 4, 33, 70), be = b.expand(3, 4, 70, 41);
            assertMatches(reference(ae, be), null, c, "broadcast batch, threads " + threads);
            Tensor w = random(rng, 41, 70); // shared weight over a batch: linear
            Tensor y = Ops.linear(random(rng, 2, 5, 70), w);
            assertArrayEquals(new int[] {2, 5, 41}, y.shape());
        }
    }

    @Test
    void accumulateAddsToTheOutput() {
        Rng rng = new Rng(5);
        for (int[] s : new int[][] {{100, 257, 33}, {1, 300, 70}, {4, 64, 40}, {7, 0, 9}}) {
            for (boolean bt : new boolean[] {false, true}) {
                Tensor a = random(rng, s[0], s[1]), b = layout(random(rng, s[1], s[2]), bt);
                Tensor out = random(rng, s[0], s[2]);
                double[] base = new double[(int) out.numel()];
                float[] ov = out.toFloatArray();
                for (int i = 0; i < base.length; i++) base[i] = ov[i];
                CpuBackend.INSTANCE.matmul(a, b, out, true);
                assertMatches(reference(a, b), base, out, "accumulate " + java.util.Arrays.toString(s) + " bT=" + bt);
            }
        }
    }

    @Test
    void overwriteIgnoresStaleOutputIncludingNaN() {
        Rng rng = new Rng(6);
        Tensor a = random(rng, 20, 300), b = random(rng, 300, 40);
        Tensor out = Tensor.full(Float.NaN, 20, 40);
        CpuBackend.INSTANCE.matmul(a, b, out, false);
        assertMatches(reference(a, b), null, out, "overwrite");
        Tensor empty = Tensor.full(Float.NaN, 5, 6);
        CpuBackend.INSTANCE.matmul(Tensor.zeros(5, 0), Tensor.zeros(0, 6), empty, false);
        assertArrayEquals(new float[30], empty.toFloatArray());
    }

    @Test
    void sixteenBitWeightsAreWidenedExactly() {
        Rng rng = new Rng(7);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 3, 33}) {
                for (int k : new int[] {7, 100, 257}) {
                    Tensor a = random(rng, m, k);
                    Tensor w = random(rng, 65, k).to(dt);           // (out, in) weight, used as x · wᵀ
                    assertMatches(reference(a, w.t()), null, Ops.matmul(a, w.t()), dt + " weight m=" + m + " k=" + k);
                    Tensor b = random(rng, k, 65).to(dt);           // row-major b
                    assertMatches(reference(a, b), null, Ops.matmul(a, b), dt + " b m=" + m + " k=" + k);
                    assertMatches(reference(a.to(dt), b), null, Ops.matmul(a.to(dt), b), dt + " a and b");
                }
            }
        }
        // special values survive the vector conversion: ±Inf, NaN, F16 subnormals, negative zero
        float[] sv = new float[32 * 20];
        sv[0] = Float.POSITIVE_INFINITY;
        sv[20 + 1] = 6e-8f;
        sv[5 * 20 + 2] = -3e-6f;
        sv[9 * 20 + 5] = Float.NaN;
        sv[17 * 20 + 15] = Float.NEGATIVE_INFINITY;
        sv[31 * 20 + 16] = -0f;
        sv[30 * 20 + 7] = -65504f;
        Tensor special = Tensor.of(sv, 32, 20);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            for (int m : new int[] {1, 9}) {
                Tensor x = random(rng, m, 32);
                Tensor s16 = special.to(dt), s16t = special.t().contiguous().to(dt).t();
                assertMatches(reference(x, s16), null, Ops.matmul(x, s16), dt + " specials m=" + m);
                assertMatches(reference(x, s16t), null, Ops.matmul(x, s16t), dt + " specials transposed m=" + m);
            }
        }
    }

    @Test
    void offHeapWeightsAreReadInPlace() {
        Rng rng = new Rng(8);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                Tensor heap = random(rng, 70, 257).to(dt);
                MemorySegment seg = arena.allocate(heap.storage().byteSize(), 64);
                seg.copyFrom(heap.storage().segment());
                Tensor w = new Tensor(Storage.wrap(seg), dt, new int[] {70, 257}, new long[] {257, 1}, 0);
                for (int m : new int[] {1, 2, 40}) {
                    Tensor a = random(rng, m, 257);
                    assertMatches(reference(a, w.t()), null, Ops.matmul(a, w.t()), "off-heap " + dt + " m=" + m);
                    Tensor b = w.narrow(0, 0, 57).t().t(); // row-major (57, 257) as B
                    Tensor a2 = random(rng, m, 57);
                    assertMatches(reference(a2, b), null, Ops.matmul(a2, b), "off-heap row-major " + dt + " m=" + m);
                }
            }
            Tensor out = new Tensor(Storage.wrap(arena.allocate(4L * 9 * 11, 64)), DType.F32, new int[] {9, 11}, new long[] {11, 1}, 0);
            Tensor a = random(rng, 9, 20), b = random(rng, 20, 11);
            CpuBackend.INSTANCE.matmul(a, b, out, false);
            assertMatches(reference(a, b), null, out, "off-heap output");
        }
    }

    @Test
    void nanAndInfinityPropagate() {
        Rng rng = new Rng(9);
        for (int m : new int[] {1, 3, 40}) {
            for (boolean bt : new boolean[] {false, true}) {
                Tensor a = random(rng, m, 300), b = layout(random(rng, 300, 50), bt).contiguous();
                a.set(Float.NaN, m - 1, 17);
                b.set(Float.POSITIVE_INFINITY, 250, 3);
                b.set(Float.NEGATIVE_INFINITY, 5, 20);
                b.set(Float.POSITIVE_INFINITY, 6, 20); // +Inf and −Inf in one column: NaN
                Tensor bl = layout(b, bt);
                Tensor c = Ops.matmul(a, bl);
                assertMatches(reference(a, bl), null, c, "specials m=" + m + " bT=" + bt);
                assertTrue(Float.isNaN(c.get(m - 1, 0)));
                if (m > 1) assertTrue(Float.isInfinite(c.get(0, 3)));
            }
        }
    }

    /**
     * Weight strips packed 16 × 16 through the register transpose give the bits of the scalar packing, for heap and
     * off-heap F32, BF16 and F16 weights (read in place or through the scratch), narrowed and strided weight views,
     * depths with and without a tail of 16 and several K slices, strip edges (N not a multiple of 16 or 32), and
     * products past the multi-row GEMV (M > 64) as the prefill makes them; both also match the reference.
     */
    @Test
    void transposedPackingGivesTheBitsOfTheScalarPacking() {
        Rng rng = new Rng(10);
        boolean saved = CpuBackend.transposedPacking();
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                for (int k : new int[] {16, 300, 530}) {
                    for (int n : new int[] {7, 48, 101}) {
                        Tensor heap = random(rng, n + 3, k + 5).to(dt);
                        MemorySegment seg = arena.allocate(heap.storage().byteSize(), 64);
                        seg.copyFrom(heap.storage().segment());
                        Tensor offHeap = new Tensor(Storage.wrap(seg), dt, new int[] {n + 3, k + 5}, new long[] {k + 5, 1}, 0);
                        for (Tensor stored : new Tensor[] {heap, offHeap}) {
                            Tensor w = stored.narrow(0, 2, n).narrow(1, 3, k); // (n, k) view: offset and a row stride past k
                            for (int m : new int[] {70}) {
                                Tensor a = random(rng, m, k);
                                CpuBackend.setTransposedPacking(true);
                                Tensor fast = Ops.matmul(a, w.t());
                                CpuBackend.setTransposedPacking(false);
                                Tensor scalar = Ops.matmul(a, w.t());
                                String what = dt + (stored == heap ? " heap" : " off-heap") + " m=" + m + " k=" + k + " n=" + n;
                                assertArrayEquals(scalar.toFloatArray(), fast.toFloatArray(), what);
                                assertMatches(reference(a, w.t()), null, fast, what);
                            }
                        }
                    }
                }
            }
        } finally {
            CpuBackend.setTransposedPacking(saved);
        }
    }
}
