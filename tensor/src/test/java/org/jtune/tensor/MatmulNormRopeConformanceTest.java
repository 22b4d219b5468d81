package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.ElementwiseConformanceTest.bcast;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * matmul (2-D, batched with broadcast batch dims, transposed and half-precision operands, vector
 * right operand, empty dims), RMSNorm, LayerNorm and RoPE (against the direct rotate_half formula,
 * and inverse = true undoing the forward) against double loops.
 */
class MatmulNormRopeConformanceTest {
    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void matmulOfViewsWithBroadcastBatches(Backend be) {
        Rng rng = new Rng(31);
        int[] sizes = {0, 1, 3, 7, 16, 17, 33, 64};
        for (int trial = 0; trial < 30; trial++) {
            int m = sizes[1 + rng.nextInt(sizes.length - 1)], k = sizes[rng.nextInt(sizes.length)], n = sizes[1 + rng.nextInt(sizes.length - 1)];
            if (trial == 0) m = 0;
            int[] aShape, bShape;
            switch (trial % 3) {
                case 0 -> { aShape = new int[] {m, k}; bShape = new int[] {k, n}; }
                case 1 -> { aShape = new int[] {3, 1, m, k}; bShape = new int[] {2, k, n}; }
                default -> { aShape = new int[] {2, m, k}; bShape = new int[] {1, k, n}; }
            }
            Tensor a = Layouts.any(rng, NORMAL, true, aShape), b = Layouts.any(rng, NORMAL, true, bShape);
            check(be, a, b);
        }
        Tensor a = Layouts.any(rng, NORMAL, true, 5, 33), v = Layouts.any(rng, NORMAL, true, 33);
        Tensor got = Ops.using(be, () -> Ops.matmul(a, v));
        Ref want = Ref.zeros(5);
        for (int i = 0; i < 5; i++) for (int p = 0; p < 33; p++) want.v()[i] += (double) a.get(i, p) * v.get(p);
        Expect.close("matmul by a vector", got, want, 1e-5, 1e-5);
        // Decode's product: one F32 row times the transpose of a BF16 weight (n × k), k odd and a multiple of 8.
        for (int kk : new int[] {33, 64, 136}) {
            Tensor row = Tensor.uniform(rng, -1f, 1f, 1, 1, kk);
            Tensor w = Tensor.uniform(rng, -1f, 1f, 19, kk).to(DType.BF16);
            check(be, row, w.transpose(0, 1));
            check(be, row, w.narrow(0, 2, 17).transpose(0, 1)); // a weight view that starts 2 rows in
        }
    }

    private static void check(Backend be, Tensor a, Tensor b) {
        Tensor got = Ops.using(be, () -> Ops.matmul(a, b));
        Ref ra = Ref.of(a), rb = Ref.of(b);
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        int[] batch = Ops.broadcastShape("test", Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Ref want = Ref.zeros(outShape);
        double[] tol = new double[want.numel()];
        for (int f = 0; f < want.numel(); f++) {
            int[] idx = want.unravel(f);
            int i = idx[idx.length - 2], j = idx[idx.length - 1];
            int[] ai = idx.clone(), bi = idx.clone();
            double acc = 0, abs = 0;
            for (int p = 0; p < k; p++) {
                ai[ai.length - 1] = p;
                bi[bi.length - 2] = p;
                bi[bi.length - 1] = j;
                ai[ai.length - 2] = i;
                double x = bcast(ra, ai) * bcast(rb, bi);
                acc += x;
                abs += Math.abs(x);
            }
            want.v()[f] = acc;
            // A k-term dot product in float, any order, with or without FMA: ≤ (k+2)·u·Σ|a·b|.
            tol[f] = (k + 2) * U * abs;
        }
        Expect.close("matmul " + describe(a) + " · " + describe(b), got, want, tol);
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void rmsNormAndLayerNorm(Backend be) {
        Rng rng = new Rng(32);
        for (int trial = 0; trial < 30; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 6000, false);
            if (trial == 0) shape = new int[] {2, 4096};
            int n = shape[shape.length - 1];
            Tensor x = Layouts.any(rng, r -> 3 * NORMAL.next(r) + 1, true, shape);
            Tensor w = Layouts.any(rng, NORMAL, true, n), bias = trial % 2 == 0 ? null : Layouts.any(rng, NORMAL, true, n);
            float eps = trial % 3 == 0 ? 1e-6f : 1e-5f;
            Ref rx = Ref.of(x), rw = Ref.of(w), rb = bias == null ? null : Ref.of(bias);
            Ref rms = Ref.zeros(shape), ln = Ref.zeros(shape);
            double[] rmsTol = new double[rx.numel()], lnTol = new double[rx.numel()];
            for (int r = 0; r < rx.numel() / n; r++) {
                double ss = 0, s = 0, abs = 0;
                for (int i = 0; i < n; i++) {
                    double v = rx.v()[r * n + i];
                    ss += v * v;
                    s += v;
                    abs += Math.abs(v);
                }
                double inv = 1 / Math.sqrt(ss / n + eps), mean = s / n, dev = 0;
                for (int i = 0; i < n; i++) dev += (rx.v()[r * n + i] - mean) * (rx.v()[r * n + i] - mean);
                double lnInv = 1 / Math.sqrt(dev / n + eps);
                for (int i = 0; i < n; i++) {
                    int f = r * n + i;
                    double v = rx.v()[f], wi = rw.v()[i], bi = rb == null ? 0 : rb.v()[i];
                    rms.v()[f] = v * inv * wi;
                    ln.v()[f] = (v - mean) * lnInv * wi + bi;
                    // The row statistic's relative error (n+8)·u carries to every output, plus a few roundings.
                    rmsTol[f] = (n + 8) * U * Math.abs(rms.v()[f]) + 1e-30;
                    // LayerNorm adds the mean's error ((n+2)·u·mean|x|) in x − mean, scaled by inv·|w|, and the bias add.
                    lnTol[f] = (2 * n + 8) * U * (Math.abs((v - mean) * lnInv * wi) + abs / n * lnInv * Math.abs(wi)) + 2 * U * Math.abs(bi);
                }
            }
            Expect.close("rms_norm of " + describe(x) + " weight " + describe(w), Ops.using(be, () -> Ops.rmsNorm(x, w, eps)), rms, rmsTol);
            Expect.close("layer_norm of " + describe(x) + (bias == null ? " without bias" : " with bias"),
                    Ops.using(be, () -> Ops.layerNorm(x, w, bias, eps)), ln, lnTol);
        }
    }

    /**
     * RMSNorm's bits do not depend on the layout: rows read and written in place go by tiles of four rows (one load of w
     * per column vector for the tile), rows of a strided view one at a time; both must give every row the same bits.
     */
    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void rmsNormTilesGiveTheBitsOfSingleRows(Backend be) {
        Rng rng = new Rng(34);
        for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 200, 1024, 2051}) {
            int rows = 1 + rng.nextInt(11);
            Tensor x = Tensor.uniform(rng, -3f, 3f, rows, n), w = Tensor.uniform(rng, 0.5f, 1.5f, n);
            Tensor strided = x.t().contiguous().t(); // the same values, column-major: not rows in place
            float[] tiled = Ops.using(be, () -> Ops.rmsNorm(x, w, 1e-5f)).toFloatArray();
            float[] single = Ops.using(be, () -> Ops.rmsNorm(strided, w, 1e-5f)).toFloatArray();
            for (int i = 0; i < tiled.length; i++) {
                if (Float.floatToRawIntBits(tiled[i]) != Float.floatToRawIntBits(single[i])) {
                    throw new AssertionError("rms_norm " + rows + "x" + n + " element " + i + ": in place " + tiled[i] + ", strided " + single[i]);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void ropeMatchesRotateHalfFormulaAndInverseUndoesIt(Backend be) {
        Rng rng = new Rng(33);
        for (int trial = 0; trial < 16; trial++) {
            int b = 1 + rng.nextInt(2), t = 1 + rng.nextInt(trial % 4 == 3 ? 80 : 9), h = 1 + rng.nextInt(4);
            int d = new int[] {2, 8, 14, 64, 128}[rng.nextInt(5)];
            Tensor x;
            if (rng.nextInt(2) == 0) {
                x = Layouts.any(rng, NORMAL, true, b, t, h, d);
            } else { // the layout attention produces: (B, H, T, D) viewed as (B, T, H, D)
                x = Layouts.any(rng, NORMAL, true, b, h, t, d).transpose(1, 2);
            }
            int[] pos = new int[b * t];
            // consecutive from 0, from a large start (the angle-addition steps across multiples of 32), or random
            int start = rng.nextInt(100_000), kind = rng.nextInt(3);
            for (int i = 0; i < pos.length; i++) pos[i] = kind == 0 ? i % t : kind == 1 ? start + i % t : rng.nextInt(100_000);
            Tensor positions = rng.nextInt(2) == 0 ? Tensor.ofInts(pos, b, t)
                    : Tensor.ofInts(Arrays.copyOf(pos, t), 1, t).expand(b, t); // the same positions for every batch row
            double theta = trial % 2 == 0 ? 10_000 : 500_000;
            Tensor invFreq = RopeFrequencies.tensor(d, theta, new RopeFrequencies.None());
            Ref rx = Ref.of(x), rp = Ref.of(positions), rf = Ref.of(invFreq);
            Ref want = Ref.zeros(b, t, h, d);
            double[] tol = new double[want.numel()];
            for (int f = 0; f < want.numel(); f++) {
                int[] idx = want.unravel(f);
                int i = idx[3], half = d / 2, pair = i < half ? i + half : i - half;
                double angle = rp.at(idx[0], idx[1]) * rf.v()[i % half];
                double xi = rx.at(idx), xp = rx.at(idx[0], idx[1], idx[2], pair);
                // out[i] = x[i]·cos − x[i+D/2]·sin; out[i+D/2] = x[i+D/2]·cos + x[i]·sin
                want.v()[f] = i < half ? xi * Math.cos(angle) - xp * Math.sin(angle) : xi * Math.cos(angle) + xp * Math.sin(angle);
                // cos and sin rounded to float (u each), two products and a sum (3u): ≤ 6u·(|x_i| + |x_pair|).
                tol[f] = 6 * U * (Math.abs(xi) + Math.abs(xp));
            }
            Tensor got = Ops.using(be, () -> Ops.rope(x, positions, invFreq));
            Expect.close("rope of " + describe(x), got, want, tol);
            Tensor back = Ops.using(be, () -> BackwardOps.rope(got, positions, invFreq));
            double[] backTol = tol.clone();
            for (int f = 0; f < backTol.length; f++) backTol[f] *= 3; // two rotations' error
            Expect.close("inverse rope of rope", back, rx, backTol);
        }
    }
}
