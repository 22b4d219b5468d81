package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training side of cross-entropy: the per-row logsumexp, the gradient from a saved logsumexp,
 * and the fused loss-and-gradient pass (also writing over the logits), with an ignore index and
 * vocabularies up to 32000, on random layouts and dtypes, against double references.
 *
 * <p>Tolerance: a row's logsumexp is a V-term sum of exponentials, (V + 8)·u relative before the log
 * turns it into an absolute error, plus roundings of the maximum and the log (as the loss test). A
 * gradient entry p_j − [j = t] with p_j = e^{x_j − lse}: the difference x_j − lse rounds by
 * u·|x_j − lse|, which exp turns into relative error of p_j, the exp itself 4u, the scale one more;
 * when the kernel uses its own logsumexp (the fused pass), that one's error adds to the exponent.
 */
class LossBackwardConformanceTest {
    static final int IGNORE = -100;

    record Case(Tensor logits, Tensor targets, int[] t, int n, int v) {}

    static Case randomCase(Rng rng, int trial) {
        int[] vocab = {1, 7, 33, 1000, 2049, 32000};
        int v = vocab[trial % vocab.length], n = v == 32000 ? 3 : rng.nextInt(12);
        float spread = trial % 2 == 0 ? 1f : 10f;
        Tensor logits = Layouts.any(rng, r -> spread * NORMAL.next(r), true, n, v);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextInt(4) == 0 ? IGNORE : rng.nextInt(v);
        return new Case(logits, Tensor.ofInts(t, n), t, n, v);
    }

    /** Row i's logsumexp in double, and its error bound. */
    static double[] lse(Ref x, int i, int v) {
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (int j = 0; j < v; j++) m = Math.max(m, x.at(i, j));
        for (int j = 0; j < v; j++) s += Math.exp(x.at(i, j) - m);
        double l = m + Math.log(s);
        return new double[] {l, (v + 8) * U + 4 * U * (Math.abs(m) + Math.abs(Math.log(s)))};
    }

    /** The scaled gradient of row i from logsumexp l (known to lErr), with per-element tolerances. */
    static void gradRow(Ref x, int i, int v, int target, double l, double lErr, float scale, Ref want, double[] tol) {
        for (int j = 0; j < v; j++) {
            int f = i * v + j;
            if (target == IGNORE) continue; // exact zeros
            double xj = x.at(i, j), p = Math.exp(xj - l);
            want.v()[f] = (p - (j == target ? 1 : 0)) * scale;
            tol[f] = Math.abs(scale) * (p * ((Math.abs(xj - l) + 6) * U + lErr) + (j == target ? 2 * U : 0)) + 1e-30;
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void logsumexpAndGradientFromIt(Backend be) {
        Rng rng = new Rng(111);
        for (int trial = 0; trial < 18; trial++) {
            Case c = randomCase(rng, trial);
            Tensor[] ll = Ops.using(be, () -> Ops.crossEntropyWithLse(c.logits(), c.targets(), IGNORE, true));
            float scale = trial % 3 == 0 ? 1f : 1f / (1 + trial);
            Tensor grad = Ops.using(be, () -> BackwardOps.crossEntropy(c.logits(), c.targets(), IGNORE, ll[1], scale));
            Ref x = Ref.of(c.logits()), gotLse = Ref.of(ll[1]);
            Ref wantLse = Ref.zeros(c.n()), wantGrad = Ref.zeros(c.n(), c.v());
            double[] lseTol = new double[c.n()], gradTol = new double[c.n() * c.v()];
            for (int i = 0; i < c.n(); i++) {
                if (c.t()[i] == IGNORE) continue; // an ignored row's lse is 0 and never read; its gradient is 0
                double[] l = lse(x, i, c.v());
                wantLse.v()[i] = l[0];
                lseTol[i] = l[1];
                gradRow(x, i, c.v(), c.t()[i], gotLse.v()[i], 0, scale, wantGrad, gradTol); // from the kernel's lse, as autograd saves it
            }
            Expect.close("cross_entropy lse of " + describe(c.logits()), ll[1], wantLse, lseTol);
            Expect.close("cross_entropy backward of " + describe(c.logits()), grad, wantGrad, gradTol);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void fusedLossAndGradientAlsoOverTheLogits(Backend be) {
        Rng rng = new Rng(112);
        for (int trial = 0; trial < 18; trial++) {
            Case c = randomCase(rng, trial);
            boolean consume = trial % 2 == 0;
            float scale = 1f / (3 + trial);
            // a logits buffer the kernel may overwrite: contiguous F32 on the backend's device
            Tensor logits = consume ? Ops.using(be, () -> Ops.zeros(DType.F32, c.n(), c.v())) : c.logits();
            if (consume) Ops.copyInto(c.logits(), logits);
            Ref x = Ref.of(c.logits());
            Tensor[] lg = Ops.using(be, () -> BackwardOps.crossEntropyWithGrad(logits, c.targets(), IGNORE, scale, consume));
            if (consume) assertSame(logits, lg[1], "the gradient is written over the logits");
            Ref wantLoss = Ref.zeros(c.n()), wantGrad = Ref.zeros(c.n(), c.v());
            double[] lossTol = new double[c.n()], gradTol = new double[c.n() * c.v()];
            for (int i = 0; i < c.n(); i++) {
                if (c.t()[i] == IGNORE) continue;
                double[] l = lse(x, i, c.v());
                wantLoss.v()[i] = l[0] - x.at(i, c.t()[i]);
                lossTol[i] = l[1] + 4 * U * Math.abs(x.at(i, c.t()[i]));
                gradRow(x, i, c.v(), c.t()[i], l[0], l[1], scale, wantGrad, gradTol); // the kernel's own lse errs by l[1]
            }
            String what = (consume ? " over the logits" : " into a new tensor") + " of " + describe(c.logits());
            Expect.close("cross_entropy loss" + what, lg[0], wantLoss, lossTol);
            Expect.close("cross_entropy gradient" + what, lg[1], wantGrad, gradTol);
        }
    }
}
