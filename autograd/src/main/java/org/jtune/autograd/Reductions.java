package org.jtune.autograd;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable reductions along one dim or over all elements. The backward of a sum is the
 * gradient broadcast back (a stride-0 view, no copy); of a mean, the same scaled by 1/n; of a max,
 * the gradient routed to the first position of the maximum (the argmax), zero elsewhere.
 */
public final class Reductions {
    private Reductions() {}

    /** y = Σ_dim x;  dx = g expanded along dim. */
    public static Variable sum(Variable x, int dim, boolean keepDim) {
        int d = x.value().dim(dim);
        int[] xs = x.shape();
        return Graph.record("sum", Ops.sum(x.value(), d, keepDim), g -> new Tensor[] {(keepDim ? g : g.unsqueeze(d)).expand(xs)}, x);
    }

    /** y = Σ x over all elements (a 0-d result);  dx = g expanded. */
    public static Variable sum(Variable x) {
        int[] xs = x.shape();
        return Graph.record("sum_all", Ops.sumAll(x.value()), g -> new Tensor[] {g.reshape(ones(xs.length)).expand(xs)}, x);
    }

    /** y = Σ_dim x / n;  dx = g/n expanded along dim. */
    public static Variable mean(Variable x, int dim, boolean keepDim) {
        int d = x.value().dim(dim);
        int[] xs = x.shape();
        float inv = 1f / xs[d];
        return Graph.record("mean", Ops.mean(x.value(), d, keepDim),
                g -> new Tensor[] {Ops.scale(keepDim ? g : g.unsqueeze(d), inv).expand(xs)}, x);
    }

    /** Mean of all elements (0-d);  dx = g/numel expanded. */
    public static Variable mean(Variable x) {
        int[] xs = x.shape();
        float inv = 1f / x.value().numel();
        Tensor y = Ops.scale(Ops.sumAll(x.value()), inv);
        return Graph.record("mean_all", y, g -> new Tensor[] {Ops.scale(g, inv).reshape(ones(xs.length)).expand(xs)}, x);
    }

    /** y = max_dim x;  dx = g at the first argmax along dim, 0 elsewhere. */
    public static Variable max(Variable x, int dim, boolean keepDim) {
        Tensor xv = x.value();
        int d = xv.dim(dim);
        Tensor y = Ops.max(xv, d, keepDim);
        if (!Graph.recording(x)) return Variable.constant(y);
        Tensor arg = Ops.argmax(xv, d, true);
        int[] xs = x.shape();
        return Graph.record("max", y, g -> new Tensor[] {routeToIndex(keepDim ? g : g.unsqueeze(d), arg, xs, d)}, x);
    }

    /** A zero tensor of {@code shape} with g[p] added at index idx[p] along dim (g and idx have dim of size 1): a scatter-add. */
    static Tensor routeToIndex(Tensor g, Tensor idx, int[] shape, int dim) {
        return Ops.scatterAdd(Ops.zerosOn(g, shape), dim, idx, g);
    }

    private static int[] ones(int n) {
        int[] s = new int[n];
        java.util.Arrays.fill(s, 1);
        return s;
    }
}
