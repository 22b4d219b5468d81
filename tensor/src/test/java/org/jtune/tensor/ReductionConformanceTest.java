package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reductions (sum, mean, max, min, var with corrections 0 and 1, argmax) and softmax / log-softmax
 * along every dim of random views, against double loops over the reduced dim. Tolerances are
 * worst-case float error bounds that hold for any summation order, so every backend meets them.
 */
class ReductionConformanceTest {
    /** The lines of x along dim: line r of the result, element i of the line. */
    record Lines(Ref x, int dim) {
        int len() {
            return x.shape()[dim];
        }

        int outer() {
            int n = 1;
            for (int d = 0; d < x.rank(); d++) if (d != dim) n *= x.shape()[d];
            return n;
        }

        /** Flat index in x of element i of line r (r enumerates the other dims in row-major order). */
        int at(int r, int i) {
            int[] idx = new int[x.rank()];
            for (int d = x.rank() - 1; d >= 0; d--) {
                if (d == dim) continue;
                idx[d] = r % x.shape()[d];
                r /= x.shape()[d];
            }
            idx[dim] = i;
            return x.flat(idx);
        }

        double get(int r, int i) {
            return x.v()[at(r, i)];
        }
    }

    static int[] keptShape(int[] shape, int dim) {
        int[] s = shape.clone();
        s[dim] = 1;
        return s;
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void reductionsAlongEveryDim(Backend be) {
        Rng rng = new Rng(21);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + rng.nextInt(3);
            int[] shape = Layouts.shape(rng, rank, 6000, true);
            Tensor x = Layouts.any(rng, NORMAL, true, shape);
            int dim = rng.nextInt(rank), arg = rng.nextInt(2) == 0 ? dim : dim - rank; // negative dims too
            Lines lines = new Lines(Ref.of(x), dim);
            int n = lines.len(), rows = lines.outer();
            for (ReduceOp op : ReduceOp.values()) {
                if (n == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) continue;
                for (int correction : op == ReduceOp.VAR ? new int[] {0, 1} : new int[] {1}) {
                    Ref want = Ref.zeros(keptShape(shape, dim));
                    double[] tol = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        double s = 0, abs = 0, mx = Double.NEGATIVE_INFINITY, mn = Double.POSITIVE_INFINITY;
                        for (int i = 0; i < n; i++) {
                            double v = lines.get(r, i);
                            s += v;
                            abs += Math.abs(v);
                            mx = Math.max(mx, v);
                            mn = Math.min(mn, v);
                        }
                        double mean = s / n, ss = 0;
                        for (int i = 0; i < n; i++) ss += (lines.get(r, i) - mean) * (lines.get(r, i) - mean);
                        double div = Math.max(0, n - correction);
                        want.v()[r] = switch (op) {
                            case SUM -> s;
                            case MEAN -> mean;
                            case MAX -> mx;
                            case MIN -> mn;
                            case VAR -> ss / div;
                        };
                        // Any order of n float additions errs by at most (n+1)·u·Σ|x| (Higham, 4.3); max and min are exact;
                        // two-pass variance: the sum of squares' bound plus the rounding of x − mean (u·|x| per term).
                        tol[r] = switch (op) {
                            case SUM -> (n + 1) * U * abs;
                            case MEAN -> (n + 2) * U * abs / Math.max(1, n);
                            case MAX, MIN -> 0;
                            case VAR -> (2 * n + 8) * U * (ss + abs * abs / Math.max(1, n)) / Math.max(1, div);
                        };
                    }
                    final int c = correction;
                    Tensor got = Ops.using(be, () -> Ops.reduce(op, x, arg, true, c));
                    Expect.close(op + " (correction " + c + ") along " + dim + " of " + describe(x), got, want, tol);
                }
            }
            if (n > 0) {
                Ref want = Ref.zeros(keptShape(shape, dim));
                for (int r = 0; r < rows; r++) {
                    int best = 0;
                    for (int i = 1; i < n; i++) if (lines.get(r, i) > lines.get(r, best)) best = i; // first maximum wins
                    want.v()[r] = best;
                }
                Expect.equal("argmax along " + dim + " of " + describe(x), Ops.using(be, () -> Ops.argmax(x, arg, true)), want);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void softmaxAndLogSoftmaxAlongEveryDim(Backend be) {
        Rng rng = new Rng(22);
        for (int trial = 0; trial < 40; trial++) {
            int rank = 1 + rng.nextInt(4);
            int[] shape = Layouts.shape(rng, rank, 6000, true);
            if (trial < 3) shape = new int[] {3, trial == 0 ? 32000 : 1000}; // vocabulary-sized rows
            rank = shape.length;
            float spread = trial % 3 == 0 ? 8f : 2f;
            Tensor x = Layouts.any(rng, r -> spread * NORMAL.next(r), true, shape);
            int dim = rng.nextInt(rank);
            Lines lines = new Lines(Ref.of(x), dim);
            int n = lines.len();
            Ref soft = Ref.zeros(shape), logSoft = Ref.zeros(shape);
            double[] softTol = new double[soft.numel()], logTol = new double[soft.numel()];
            for (int r = 0; r < lines.outer(); r++) {
                double m = Double.NEGATIVE_INFINITY, s = 0;
                for (int i = 0; i < n; i++) m = Math.max(m, lines.get(r, i));
                for (int i = 0; i < n; i++) s += Math.exp(lines.get(r, i) - m);
                for (int i = 0; i < n; i++) {
                    int at = lines.at(r, i);
                    double z = lines.get(r, i) - m;
                    soft.v()[at] = Math.exp(z) / s;
                    logSoft.v()[at] = z - Math.log(s);
                    // exp(x − m) errs by ~(|x − m| + 2)·u relative, the sum by (n+2)·u, the division by u.
                    softTol[at] = (n + 8 + 2 * Math.abs(z)) * U * soft.v()[at] + 1e-38;
                    // x − m and − log s each round (u of their size); the sum's relative error becomes absolute.
                    logTol[at] = (n + 8 + 2 * Math.abs(z) + 2 * Math.abs(Math.log(s))) * U;
                }
            }
            Expect.close("softmax along " + dim + " of " + describe(x), Ops.using(be, () -> Ops.softmax(x, dim)), soft, softTol);
            Expect.close("log_softmax along " + dim + " of " + describe(x), Ops.using(be, () -> Ops.logSoftmax(x, dim)), logSoft, logTol);
        }
    }
}
