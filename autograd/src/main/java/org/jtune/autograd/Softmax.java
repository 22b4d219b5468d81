package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable softmax and log-softmax along a dim:
 * softmax y = e^x/Σe^x:      dx = y ∘ (g − Σ g∘y);
 * log-softmax y = x − lse:    dx = g − e^y · Σ g.
 * Only the output y is saved.
 */
public final class Softmax {
    private Softmax() {}

    public static Variable softmax(Variable x, int dim) {
        int d = x.value().dim(dim);
        Tensor y = Ops.softmax(x.value(), d);
        return Graph.record("softmax", y, g -> new Tensor[] {BackwardOps.softmax(y, g, d, false)}, x);
    }

    public static Variable logSoftmax(Variable x, int dim) {
        int d = x.value().dim(dim);
        Tensor y = Ops.logSoftmax(x.value(), d);
        return Graph.record("log_softmax", y, g -> new Tensor[] {BackwardOps.softmax(y, g, d, true)}, x);
    }
}
