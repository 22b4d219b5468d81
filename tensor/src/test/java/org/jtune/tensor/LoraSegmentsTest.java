package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import org.jtune.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * {@link Ops#loraSegments} on the CPU (the segmented LoRA kernel of batched adapter serving) against a scalar
 * double-precision reference on odd shapes: segments of mixed adapters (different ranks and scales), segments
 * without an adapter and empty ones, x, A and B as views of every layout (transposed, narrowed, stepped; F32,
 * BF16, F16). The error bound is derived per element (below). Each row must get the same bits batched with
 * others as computed alone with its adapter; rows without an adapter are left untouched; calls large enough to
 * go to the pool agree with the serial path; a warm call allocates nothing.
 */
class LoraSegmentsTest {
    private static final double U = Math.ulp(1.0f) / 2; // unit roundoff of F32

    private static double gamma(int n) {
        return n * U / (1 - n * U);
    }

    /** One random problem: x (m, in), segments with their adapters, the base output y0. */
    private record Problem(Tensor x, int[] starts, Tensor[] a, Tensor[] b, float[] scale, int segments, Tensor y0) {}

    private static Problem problem(Rng rng, int m, int in, int out, boolean views) {
        int segments = 1 + rng.nextInt(5);
        int[] starts = new int[segments + 1];
        for (int s = 1; s < segments; s++) starts[s] = starts[s - 1] + rng.nextInt(m - starts[s - 1] + 1);
        starts[segments] = m;
        Tensor[] a = new Tensor[segments + 2], b = new Tensor[segments + 2]; // longer than needed: only the first `segments` count
        float[] scale = new float[segments + 2];
        for (int s = 0; s < segments; s++) {
            if (rng.nextInt(4) == 0) continue; // the base model
            int r = 1 + rng.nextInt(19);
            a[s] = views ? Layouts.any(rng, Layouts.NORMAL, true, r, in) : Tensor.randn(rng, 1f, r, in);
            b[s] = views ? Layouts.any(rng, Layouts.NORMAL, true, out, r) : Tensor.randn(rng, 1f, out, r);
            scale[s] = (float) (0.25 + 2 * rng.nextDouble());
        }
        Tensor x = views ? Layouts.any(rng, Layouts.NORMAL, true, m, in) : Tensor.randn(rng, 1f, m, in);
        return new Problem(x, starts, a, b, scale, segments, Tensor.randn(rng, 1f, m, out));
    }

    private static Tensor run(Problem p) {
        Tensor y = p.y0().copy();
        Ops.loraSegments(p.x(), p.starts(), p.a().clone(), p.b().clone(), p.scale(), p.segments(), y);
        return y;
    }

    @Test
    void matchesDoubleReferenceOnOddShapesAndViews() {
        Rng rng = new Rng(41);
        for (int trial = 0; trial < 60; trial++) {
            int m = 1 + rng.nextInt(21), in = 1 + rng.nextInt(70), out = 1 + rng.nextInt(70);
            Problem p = problem(rng, m, in, out, trial % 3 != 0);
            Tensor y = run(p);
            for (int s = 0; s < p.segments(); s++) {
                for (int row = p.starts()[s]; row < p.starts()[s + 1]; row++) {
                    for (int j = 0; j < out; j++) {
                        double y0 = p.y0().get(row, j), got = y.get(row, j);
                        if (p.a()[s] == null) {
                            assertEquals(Float.floatToIntBits((float) y0), Float.floatToIntBits((float) got), "row " + row + " has no adapter: untouched");
                            continue;
                        }
                        Tensor a = p.a()[s], b = p.b()[s];
                        int r = a.size(0);
                        double want = y0, bound = 0, absSum = Math.abs(y0);
                        for (int i = 0; i < r; i++) {
                            double h = 0, hAbs = 0;
                            for (int k = 0; k < in; k++) {
                                double t = (double) p.x().get(row, k) * a.get(i, k);
                                h += t;
                                hAbs += Math.abs(t);
                            }
                            double f = p.scale()[s];
                            want += f * h * b.get(j, i);
                            // h_i in F32: a dot of `in` terms, then one product with the scale: |ĥ − f·h| ≤ γ_{in+1}·|f|·Σ|x·A|
                            double hErr = gamma(in + 1) * Math.abs(f) * hAbs;
                            double hHat = Math.abs(f * h) + hErr;
                            bound += hErr * Math.abs(b.get(j, i));
                            absSum += hHat * Math.abs(b.get(j, i));
                        }
                        bound += gamma(r) * absSum; // r fused multiply-adds into y0
                        assertEquals(want, got, 2 * bound + 1e-30, "trial " + trial + " row " + row + " col " + j + " segment " + s);
                    }
                }
            }
        }
    }

    @Test
    void eachRowHasTheBitsItGetsAlone() {
        Rng rng = new Rng(42);
        for (int trial = 0; trial < 30; trial++) {
            int m = 2 + rng.nextInt(30), in = 1 + rng.nextInt(90), out = 1 + rng.nextInt(90);
            Problem p = problem(rng, m, in, out, trial % 2 == 0);
            Tensor y = run(p);
            for (int s = 0; s < p.segments(); s++) {
                for (int row = p.starts()[s]; row < p.starts()[s + 1]; row++) {
                    Tensor alone = p.y0().narrow(0, row, 1).copy();
                    Ops.loraSegments(p.x().narrow(0, row, 1), new int[] {0, 1}, new Tensor[] {p.a()[s]}, new Tensor[] {p.b()[s]},
                            new float[] {p.scale()[s]}, 1, alone);
                    assertArrayEquals(alone.toFloatArray(), y.narrow(0, row, 1).contiguous().toFloatArray(), "trial " + trial + " row " + row);
                }
            }
        }
    }

    @Test
    void pooledCallsEqualTheSerialPath() {
        int saved = Parallel.threads();
        try {
            Rng rng = new Rng(43);
            for (int trial = 0; trial < 4; trial++) {
                Problem p = problem(rng, 64 + rng.nextInt(40), 300 + rng.nextInt(50), 280 + rng.nextInt(50), trial % 2 == 0); // over the serial threshold
                Parallel.setThreads(1);
                Tensor one = run(p);
                Parallel.setThreads(Math.max(2, saved));
                Tensor many = run(p);
                assertArrayEquals(one.toFloatArray(), many.toFloatArray(), "trial " + trial);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void warmCallsAllocateNothing() {
        Rng rng = new Rng(44);
        int m = 16, in = 288, out = 288;
        int[] starts = new int[9];
        Tensor[] a = new Tensor[8], b = new Tensor[8];
        float[] scale = new float[8];
        for (int s = 0; s < 8; s++) {
            starts[s + 1] = starts[s] + 2;
            a[s] = Tensor.randn(rng, 1f, 16, in);
            b[s] = Tensor.randn(rng, 1f, out, 16);
            scale[s] = 2f;
        }
        Tensor x = Tensor.randn(rng, 1f, m, in), y = Tensor.zeros(m, out);
        // "warm" means compiled by C2, whose escape analysis removes the per-call closures: 2000 calls were not always enough
        // on a loaded CI machine (200 calls then allocated 384 bytes each, C1's code), so warm up until a window is clean
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long bytes = Long.MAX_VALUE;
        for (int round = 0; round < 20 && bytes >= 2000; round++) {
            for (int i = 0; i < 2000; i++) CpuBackend.INSTANCE.loraSegments(x, starts, a, b, scale, 8, y);
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200; i++) CpuBackend.INSTANCE.loraSegments(x, starts, a, b, scale, 8, y);
            bytes = mx.getCurrentThreadAllocatedBytes() - before;
        }
        assertTrue(bytes < 2000, "200 warm calls allocated " + bytes + " bytes after up to 20 rounds of 2000 warm-up calls");
    }

    @Test
    void badSegmentsAreRefusedByName() {
        Tensor x = Tensor.zeros(4, 5), y = Tensor.zeros(4, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> Ops.loraSegments(x, new int[] {0, 5}, new Tensor[] {Tensor.zeros(2, 5)},
                new Tensor[] {Tensor.zeros(3, 2)}, new float[] {1f}, 1, y));
        assertTrue(e.getMessage().contains("segment 0 covers rows [0, 5) of 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.loraSegments(x, new int[] {0, 4}, new Tensor[] {Tensor.zeros(2, 6)},
                new Tensor[] {Tensor.zeros(3, 2)}, new float[] {1f}, 1, y));
        assertTrue(e.getMessage().contains("segment 0 has A [2, 6]"), e.getMessage());
    }
}
