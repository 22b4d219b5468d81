package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Differentiable softmax and log-softmax along a dim, with their row kernels for the backward:
 * softmax y = e^x/Σe^x:      dx = y ∘ (g − Σ g∘y);
 * log-softmax y = x − lse:    dx = g − e^y · Σ g.
 * Only the output y is saved. Rows along a dim other than the last are handled by a transposed view.
 */
public final class Softmax {
    private Softmax() {}

    public static Variable softmax(Variable x, int dim) {
        int d = x.value().dim(dim);
        Tensor y = Ops.softmax(x.value(), d);
        return Graph.record("softmax", y, g -> new Tensor[] {rowsBackward(y, g, d, false)}, x);
    }

    public static Variable logSoftmax(Variable x, int dim) {
        int d = x.value().dim(dim);
        Tensor y = Ops.logSoftmax(x.value(), d);
        return Graph.record("log_softmax", y, g -> new Tensor[] {rowsBackward(y, g, d, true)}, x);
    }

    /** dx for softmax (log = false) or log-softmax (log = true) along dim, from the saved output y. */
    static Tensor rowsBackward(Tensor y, Tensor g, int dim, boolean log) {
        int last = y.rank() - 1;
        Tensor yr = Pointwise.dense(y.transpose(dim, last)), gr = Pointwise.dense(g.transpose(dim, last));
        Tensor out = Tensor.zeros(yr.shape());
        int n = yr.rank() == 0 ? 1 : yr.size(-1);
        int rows = n == 0 ? 0 : (int) (yr.numel() / n);
        float[] ya = Pointwise.array(yr), ga = Pointwise.array(gr), o = Pointwise.array(out);
        int yo = (int) yr.offset(), go = (int) gr.offset();
        var S = Pointwise.S;
        Parallel.forRange(rows, Math.max(1, 4096 / Math.max(n, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int yb = yo + r * n, gb = go + r * n, ob = r * n;
                int i = 0;
                FloatVector acc = FloatVector.zero(S);
                if (log) {
                    for (int bound = S.loopBound(n); i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, ga, gb + i));
                } else {
                    for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                        acc = FloatVector.fromArray(S, ga, gb + i).fma(FloatVector.fromArray(S, ya, yb + i), acc);
                    }
                }
                float s = VectorMath.sum(acc);
                for (; i < n; i++) s += log ? ga[gb + i] : ga[gb + i] * ya[yb + i];
                i = 0;
                for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                    FloatVector yv = FloatVector.fromArray(S, ya, yb + i), gv = FloatVector.fromArray(S, ga, gb + i);
                    FloatVector r2 = log ? gv.sub(VectorMath.exp(yv).mul(s)) : yv.mul(gv.sub(s));
                    r2.intoArray(o, ob + i);
                }
                for (; i < n; i++) o[ob + i] = log ? ga[gb + i] - (float) Math.exp(ya[yb + i]) * s : ya[yb + i] * (ga[gb + i] - s);
            }
        });
        return out.transpose(dim, last);
    }
}
