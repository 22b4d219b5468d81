package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;

/**
 * Differentiable elementwise functions. Each forward is the tensor module's kernel; each backward
 * is dx = g·f'(x), written next to it, computed from x or from the saved output y, whichever is
 * cheaper ({@link UnaryOp#gradientFromOutput()}; the kernel is {@link BackwardOps#unary}).
 */
public final class Activations {
    private Activations() {}

    /** y = eˣ;  dx = g·y. */
    public static Variable exp(Variable x) {
        return fromOutput(UnaryOp.EXP, "exp", x);
    }

    /** y = ln x;  dx = g/x. */
    public static Variable log(Variable x) {
        return fromInput(UnaryOp.LOG, "log", x);
    }

    /** y = √x;  dx = g/(2y). */
    public static Variable sqrt(Variable x) {
        return fromOutput(UnaryOp.SQRT, "sqrt", x);
    }

    /** y = 1/√x;  dx = −g·y³/2. */
    public static Variable rsqrt(Variable x) {
        return fromOutput(UnaryOp.RSQRT, "rsqrt", x);
    }

    /** y = tanh x;  dx = g·(1 − y²). */
    public static Variable tanh(Variable x) {
        return fromOutput(UnaryOp.TANH, "tanh", x);
    }

    /** y = σ(x) = 1/(1 + e⁻ˣ);  dx = g·y·(1 − y). */
    public static Variable sigmoid(Variable x) {
        return fromOutput(UnaryOp.SIGMOID, "sigmoid", x);
    }

    /** y = x·σ(x);  dx = g·σ(x)·(1 + x·(1 − σ(x))). */
    public static Variable silu(Variable x) {
        return fromInput(UnaryOp.SILU, "silu", x);
    }

    /** y = max(x, 0);  dx = g where x > 0, else 0. */
    public static Variable relu(Variable x) {
        return fromInput(UnaryOp.RELU, "relu", x);
    }

    /**
     * Exact GELU, y = x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2;  dx = g·(Φ(x) + x·φ(x)),
     * φ(x) = e^(−x²/2)/√(2π).
     */
    public static Variable gelu(Variable x) {
        return fromInput(UnaryOp.GELU_ERF, "gelu", x);
    }

    /**
     * GELU, tanh approximation: y = x·(1 + tanh u)/2 with u = √(2/π)·(x + 0.044715x³);
     * dx = g·((1 + tanh u)/2 + x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715x²)/2).
     */
    public static Variable geluTanh(Variable x) {
        return fromInput(UnaryOp.GELU_TANH, "gelu_tanh", x);
    }

    /** The backward reads the saved input x. */
    private static Variable fromInput(UnaryOp op, String name, Variable x) {
        Tensor xv = x.value();
        return Graph.record(name, Ops.unary(op, xv), g -> new Tensor[] {BackwardOps.unary(op, xv, g)}, x);
    }

    /** The backward reads the saved output y. */
    private static Variable fromOutput(UnaryOp op, String name, Variable x) {
        Tensor y = Ops.unary(op, x.value());
        return Graph.record(name, y, g -> new Tensor[] {BackwardOps.unary(op, y, g)}, x);
    }
}
