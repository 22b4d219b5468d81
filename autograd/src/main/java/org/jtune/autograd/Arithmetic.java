package org.jtune.autograd;

import static org.jtune.tensor.BackwardOps.sumTo;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable arithmetic with numpy broadcasting: each op's forward and its backward rule side by
 * side. An input that was broadcast receives its gradient summed over the broadcast dims.
 */
public final class Arithmetic {
    private Arithmetic() {}

    /** y = a + b;  da = g, db = g. */
    public static Variable add(Variable a, Variable b) {
        int[] as = a.shape(), bs = b.shape();
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        return Graph.record("add", Ops.add(a.value(), b.value()), g -> new Tensor[] {
                ga ? sumTo(g, as) : null,
                gb ? sumTo(g, bs) : null}, a, b);
    }

    /** y = a − b;  da = g, db = −g. */
    public static Variable sub(Variable a, Variable b) {
        int[] as = a.shape(), bs = b.shape();
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        return Graph.record("sub", Ops.sub(a.value(), b.value()), g -> new Tensor[] {
                ga ? sumTo(g, as) : null,
                gb ? sumTo(Ops.neg(g), bs) : null}, a, b);
    }

    /** y = a · b;  da = g·b, db = g·a. */
    public static Variable mul(Variable a, Variable b) {
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        Tensor av = gb ? a.value() : null, bv = ga ? b.value() : null; // each side saves only what the other's rule reads
        int[] as = a.shape(), bs = b.shape();
        return Graph.record("mul", Ops.mul(a.value(), b.value()), g -> new Tensor[] {
                ga ? sumTo(Ops.mul(g, bv), as) : null,
                gb ? sumTo(Ops.mul(g, av), bs) : null}, a, b);
    }

    /** y = a / b;  da = g/b, db = −g·y/b. */
    public static Variable div(Variable a, Variable b) {
        Tensor bv = b.value();
        Tensor y = Ops.div(a.value(), bv);
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        int[] as = a.shape();
        return Graph.record("div", y, g -> new Tensor[] {
                ga ? sumTo(Ops.div(g, bv), as) : null,
                gb ? sumTo(Ops.neg(Ops.div(Ops.mul(g, y), bv)), bv.shape()) : null}, a, b);
    }

    /** y = −x;  dx = −g. */
    public static Variable neg(Variable x) {
        return Graph.record("neg", Ops.neg(x.value()), g -> new Tensor[] {Ops.neg(g)}, x);
    }

    /** y = a·x;  dx = a·g. */
    public static Variable scale(Variable x, float a) {
        return affine(x, a, 0f);
    }

    /** y = x + b;  dx = g. */
    public static Variable addScalar(Variable x, float b) {
        return affine(x, 1f, b);
    }

    /** y = a·x + b;  dx = a·g. */
    public static Variable affine(Variable x, float a, float b) {
        return Graph.record("affine", Ops.affine(x.value(), a, b), g -> new Tensor[] {a == 1f ? g : Ops.scale(g, a)}, x);
    }

    /** y = x^p;  dx = g·p·x^(p−1). */
    public static Variable pow(Variable x, float p) {
        Tensor xv = x.value();
        return Graph.record("pow", Ops.pow(xv, p), g -> new Tensor[] {BackwardOps.pow(xv, p, g)}, x);
    }

    /** y = cond ≠ 0 ? a : b (cond is data, not differentiated);  da = g where cond, db = g elsewhere. */
    public static Variable where(Tensor cond, Variable a, Variable b) {
        Tensor zero = Ops.zerosOn(a.value());
        int[] as = a.shape(), bs = b.shape();
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        return Graph.record("where", Ops.where(cond, a.value(), b.value()), g -> new Tensor[] {
                ga ? sumTo(Ops.where(cond, g, zero), as) : null,
                gb ? sumTo(Ops.where(cond, zero, g), bs) : null}, a, b);
    }

}
