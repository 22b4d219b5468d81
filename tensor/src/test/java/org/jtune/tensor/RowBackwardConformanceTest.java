package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The gradient kernels that reduce along rows or dims — the sum back to a broadcast shape, the
 * softmax and log-softmax backward, RMSNorm's saved rstd and its backward (dx, dw), and the squared
 * norm of clipping — against double references on random layouts with odd sizes. Each tolerance is
 * the float error of the kernel's sums (a k-term sum in any order errs by ≤ (k+2)·u·Σ|terms|) and of
 * the few operations around them; the reference reads the same float inputs (the saved rstd and y
 * are the forward kernels' outputs).
 */
class RowBackwardConformanceTest {
    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void sumToABroadcastShape(Backend be) {
        Rng rng = new Rng(91);
        for (int trial = 0; trial < 24; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(4), 6000, true);
            int[] target = ElementwiseConformanceTest.broadcastable(rng, shape);
            Tensor g = Layouts.any(rng, NORMAL, true, shape);
            Tensor got = Ops.using(be, () -> BackwardOps.sumTo(g, target));
            Ref rg = Ref.of(g), want = Ref.zeros(target);
            double[] abs = new double[want.numel()];
            int[] count = new int[want.numel()];
            for (int i = 0; i < rg.numel(); i++) {
                int[] idx = rg.unravel(i);
                int lead = idx.length - target.length;
                int[] t = new int[target.length];
                for (int d = 0; d < t.length; d++) t[d] = target[d] == 1 ? 0 : idx[d + lead];
                int f = target.length == 0 ? 0 : want.flat(t);
                want.v()[f] += rg.v()[i];
                abs[f] += Math.abs(rg.v()[i]);
                count[f]++;
            }
            double[] tol = new double[abs.length];
            for (int f = 0; f < tol.length; f++) tol[f] = (count[f] + 2) * U * abs[f];
            Expect.close("sum_to " + Arrays.toString(target) + " of " + describe(g), got, want, tol);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void softmaxAndLogSoftmaxBackward(Backend be) {
        Rng rng = new Rng(92);
        for (int trial = 0; trial < 20; trial++) {
            boolean log = trial % 2 == 1;
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 6000, false);
            int dim = rng.nextInt(shape.length);
            Tensor x = Layouts.any(rng, r -> 2 * NORMAL.next(r), true, shape), g = Layouts.any(rng, NORMAL, true, shape);
            Tensor y = Ops.using(be, () -> log ? Ops.logSoftmax(x, dim) : Ops.softmax(x, dim));
            Tensor got = Ops.using(be, () -> BackwardOps.softmax(y, g, dim, log));
            Ref ry = Ref.of(y), rg = Ref.of(g), want = Ref.zeros(shape);
            double[] tol = new double[want.numel()];
            int n = shape[dim];
            for (int f = 0; f < want.numel(); f++) {
                int[] idx = want.unravel(f);
                double s = 0, sAbs = 0;
                for (int j = 0; j < n; j++) {
                    idx[dim] = j;
                    double term = log ? rg.at(idx) : rg.at(idx) * ry.at(idx);
                    s += term;
                    sAbs += Math.abs(term);
                }
                idx = want.unravel(f);
                double yi = ry.at(idx), gi = rg.at(idx);
                if (log) {
                    // dx = g − e^y·Σg: the sum (n+2)u·Σ|g|, e^y within 4u, the product and the difference.
                    want.v()[f] = gi - Math.exp(yi) * s;
                    tol[f] = Math.exp(yi) * ((n + 2) * U * sAbs + 6 * U * Math.abs(s)) + 2 * U * Math.abs(gi) + 1e-30;
                } else {
                    // dx = y(g − Σ g∘y): the sum (n+2)u·Σ|g y|, the difference and the product.
                    want.v()[f] = yi * (gi - s);
                    tol[f] = Math.abs(yi) * ((n + 2) * U * sAbs + 3 * U * (Math.abs(gi) + Math.abs(s))) + 1e-30;
                }
            }
            Expect.close((log ? "log_softmax" : "softmax") + " backward along " + dim + " of " + describe(x), got, want, tol);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void rmsNormRstdAndBackward(Backend be) {
        Rng rng = new Rng(93);
        for (int trial = 0; trial < 24; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 6000, false);
            if (trial == 0) shape = new int[] {70, 288}; // more rows than one dw block
            int n = shape[shape.length - 1], rows = (int) (Tensor.numel(shape) / n);
            int[] rowShape = Arrays.copyOf(shape, shape.length - 1);
            Tensor x = Layouts.any(rng, r -> 2 * NORMAL.next(r) + 0.5f, true, shape), g = Layouts.any(rng, NORMAL, true, shape);
            Tensor w = Layouts.any(rng, Layouts.uniform(0.5, 1.5), true, n);
            float eps = 1e-5f;
            boolean wantX = trial % 3 != 1, wantW = trial % 3 != 2;
            Tensor[] yr = Ops.using(be, () -> Ops.rmsNormWithRstd(x, w, eps, true));
            assertArrayEquals(rowShape, yr[1].shape(), "rstd has one value per row");
            Tensor[] d = Ops.using(be, () -> BackwardOps.rmsNorm(x, w, yr[1], g, wantX, wantW));
            Ref rx = Ref.of(x), rw = Ref.of(w), rg = Ref.of(g), rr = Ref.of(yr[1]);
            Ref wantR = Ref.zeros(rowShape), dx = Ref.zeros(shape), dw = Ref.zeros(n);
            double[] tolR = new double[rows], tolX = new double[rx.numel()], tolW = new double[n];
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int i = 0; i < n; i++) ss += rx.v()[r * n + i] * rx.v()[r * n + i];
                wantR.v()[r] = 1 / Math.sqrt(ss / n + eps);
                tolR[r] = (n + 8) * U * wantR.v()[r]; // the row's mean square (n+2)u, then a few roundings
                // the backward from the kernel's own r: dx = r·g∘w − r³·(Σ g∘w∘x / n)·x,  dw += g∘x·r
                double rv = rr.v()[r], s = 0, sAbs = 0;
                for (int i = 0; i < n; i++) {
                    double t = rg.v()[r * n + i] * rw.v()[i] * rx.v()[r * n + i];
                    s += t;
                    sAbs += Math.abs(t);
                }
                for (int i = 0; i < n; i++) {
                    int f = r * n + i;
                    double gw = rg.v()[f] * rw.v()[i], xi = rx.v()[f];
                    dx.v()[f] = rv * gw - rv * rv * rv * s / n * xi;
                    // g∘w and r·g∘w: 2u; the dot (n+2)u·Σ|g w x| and 4 roundings of k = r³·s/n; the product with x and the difference.
                    tolX[f] = 3 * U * Math.abs(rv * gw) + Math.abs(xi) * rv * rv * rv / n * ((n + 8) * U * sAbs) + 1e-30;
                    dw.v()[i] += rg.v()[f] * xi * rv;
                    tolW[i] += Math.abs(rg.v()[f] * xi * rv);
                }
            }
            for (int i = 0; i < n; i++) tolW[i] *= (rows + 4) * U; // rows summed in blocks, each term two products
            Expect.close("rms_norm rstd of " + describe(x), yr[1], wantR, tolR);
            if (wantX) Expect.close("rms_norm dx of " + describe(x) + ", g " + describe(g), d[0], dx, tolX);
            else assertNull(d[0]);
            if (wantW) Expect.close("rms_norm dw of " + describe(x), d[1], dw, tolW);
            else assertNull(d[1]);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void sumOfSquaresInDouble(Backend be) {
        Rng rng = new Rng(94);
        for (int trial = 0; trial < 10; trial++) {
            int[] shape = trial == 0 ? new int[] {3 * (1 << 16) + 12_345} : Layouts.shape(rng, 1 + rng.nextInt(3), 6000, true);
            Tensor x = Layouts.any(rng, NORMAL, true, shape);
            double got = Ops.using(be, () -> Ops.sumOfSquares(x));
            double want = 0;
            for (double v : Ref.of(x).v()) want += v * v;
            // a float squared is exact in double; n additions in double: ≤ (n+2)·2⁻⁵³·Σx².
            assertEquals(want, got, (x.numel() + 2) * 0x1p-53 * want, "sum of squares of " + describe(x));
        }
    }
}
