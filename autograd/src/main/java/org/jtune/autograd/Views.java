package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable views: the forward shares storage (no copy, except reshape of a layout that cannot
 * be viewed); the backward routes the gradient back to the input's layout — the inverse view, or a
 * zero tensor with the gradient copied into the selected region, or a sum over expanded dims.
 */
public final class Views {
    private Views() {}

    /** Same data in another shape (one dim may be −1);  dx = g reshaped to x's shape. */
    public static Variable reshape(Variable x, int... shape) {
        int[] xs = x.shape();
        return Graph.record("reshape", x.value().reshape(shape), g -> new Tensor[] {g.reshape(xs)}, x);
    }

    /** Like reshape but never copies (throws when the strides do not allow it). */
    public static Variable view(Variable x, int... shape) {
        int[] xs = x.shape();
        return Graph.record("view", x.value().view(shape), g -> new Tensor[] {g.reshape(xs)}, x);
    }

    /** Swap of two dims;  dx = gᵀ (the same swap). */
    public static Variable transpose(Variable x, int d0, int d1) {
        return Graph.record("transpose", x.value().transpose(d0, d1), g -> new Tensor[] {g.transpose(d0, d1)}, x);
    }

    /** Reordered dims;  dx = g permuted by the inverse order. */
    public static Variable permute(Variable x, int... order) {
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) inverse[x.value().dim(order[i])] = i;
        return Graph.record("permute", x.value().permute(order), g -> new Tensor[] {g.permute(inverse)}, x);
    }

    /** Elements start ≤ i &lt; start+length of dim;  dx = zeros with g in that range. */
    public static Variable narrow(Variable x, int dim, int start, int length) {
        int[] xs = x.shape();
        return Graph.record("narrow", x.value().narrow(dim, start, length),
                g -> new Tensor[] {scatterInto(xs, g, z -> z.narrow(dim, start, length))}, x);
    }

    /** Python slice start:end:step of dim;  dx = zeros with g at the sliced positions. */
    public static Variable slice(Variable x, int dim, int start, int end, int step) {
        int[] xs = x.shape();
        return Graph.record("slice", x.value().slice(dim, start, end, step),
                g -> new Tensor[] {scatterInto(xs, g, z -> z.slice(dim, start, end, step))}, x);
    }

    /** Index {@code index} of dim, the dim removed;  dx = zeros with g at that index. */
    public static Variable select(Variable x, int dim, int index) {
        int[] xs = x.shape();
        return Graph.record("select", x.value().select(dim, index),
                g -> new Tensor[] {scatterInto(xs, g, z -> z.select(dim, index))}, x);
    }

    /** Broadcast view (stride 0 along expanded dims);  dx = g summed over them. */
    public static Variable expand(Variable x, int... shape) {
        int[] xs = x.shape();
        return Graph.record("expand", x.value().expand(shape), g -> new Tensor[] {BackwardOps.sumTo(g, xs)}, x);
    }

    public static Variable unsqueeze(Variable x, int dim) {
        int d = dim < 0 ? dim + x.rank() + 1 : dim;
        return Graph.record("unsqueeze", x.value().unsqueeze(dim), g -> new Tensor[] {g.squeeze(d)}, x);
    }

    public static Variable squeeze(Variable x, int dim) {
        int d = x.value().dim(dim);
        return Graph.record("squeeze", x.value().squeeze(dim), g -> new Tensor[] {g.unsqueeze(d)}, x);
    }

    /** A contiguous copy (a no-op when already contiguous);  dx = g. */
    public static Variable contiguous(Variable x) {
        Tensor v = x.value();
        if (v.isContiguous()) return x;
        return Graph.record("contiguous", v.contiguous(), g -> new Tensor[] {g}, x);
    }

    /** A zero F32 tensor of {@code shape} (on g's device) with g copied into the region {@code region} selects. */
    static Tensor scatterInto(int[] shape, Tensor g, java.util.function.UnaryOperator<Tensor> region) {
        Tensor z = Ops.zerosOn(g, shape);
        Ops.copyInto(g, region.apply(z));
        return z;
    }
}
