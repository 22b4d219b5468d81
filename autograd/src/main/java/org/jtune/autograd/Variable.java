package org.jtune.autograd;

import java.util.Arrays;
import org.jtune.tensor.Backend;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * A tensor taking part in differentiation: its value, whether gradients flow to it, and, for the
 * result of a recorded op, the graph node that produced it. A leaf that requires grad (a parameter)
 * accumulates into {@link #grad()} over backward calls until {@link #zeroGrad()}; the gradient is an
 * F32 contiguous tensor of the value's shape, allocated when first written. Results of ops do not
 * keep gradients. The value may be any dtype (a frozen BF16 weight, I32 ids).
 *
 * <p>The view methods here ({@link #reshape}, {@link #transpose}, ...) are shortcuts for {@link Views}.
 */
public final class Variable {
    private final Tensor value;
    private final boolean requiresGrad;
    final Node node;       // null for leaves and constants
    final int outputIndex; // which output of node this is
    private Tensor grad;
    private String name;

    private Variable(Tensor value, boolean requiresGrad) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.node = null;
        this.outputIndex = 0;
    }

    Variable(Tensor value, Node node, int outputIndex) {
        this.value = value;
        this.requiresGrad = true;
        this.node = node;
        this.outputIndex = outputIndex;
    }

    /** A leaf whose gradient is wanted (a trainable parameter). Its value must be floating. */
    public static Variable parameter(Tensor value) {
        if (!value.dtype().isFloating()) throw new IllegalArgumentException("a parameter must be floating, got " + value);
        return new Variable(value, true);
    }

    /** A leaf without gradient: data, ids, frozen weights. */
    public static Variable constant(Tensor value) {
        return new Variable(value, false);
    }

    public static Variable of(Tensor value, boolean requiresGrad) {
        return requiresGrad ? parameter(value) : constant(value);
    }

    public Tensor value() {
        return value;
    }

    public int[] shape() {
        return value.shape();
    }

    public int size(int dim) {
        return value.size(dim);
    }

    public int rank() {
        return value.rank();
    }

    public DType dtype() {
        return value.dtype();
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** True for parameters and constants, false for results of recorded ops. */
    public boolean isLeaf() {
        return node == null;
    }

    /** The accumulated gradient of a leaf, or null when none has arrived since the last {@link #zeroGrad()}. */
    public Tensor grad() {
        return grad;
    }

    /** Forgets the accumulated gradient (the memory is released; the next backward allocates afresh). */
    public void zeroGrad() {
        grad = null;
    }

    /** A name for error messages and parameter lists (the Hugging Face tensor name of a weight). */
    public Variable named(String n) {
        this.name = n;
        return this;
    }

    public String name() {
        return name;
    }

    /** The same value, cut from the graph: no gradient flows through the result. */
    public Variable detach() {
        return constant(value);
    }

    /** Backward from a one-element result (a loss): seeds its gradient with 1. */
    public void backward() {
        if (value.numel() != 1) {
            throw new IllegalArgumentException("backward() needs a one-element result, got shape " + Arrays.toString(value.shape())
                    + "; pass the upstream gradient with backward(Tensor)");
        }
        backward(Tensor.full(1f, value.shape()));
    }

    /** Backward with the gradient of the loss with respect to this value. */
    public void backward(Tensor upstream) {
        if (!Arrays.equals(upstream.shape(), value.shape())) {
            throw new IllegalArgumentException("backward: upstream gradient of shape " + Arrays.toString(upstream.shape())
                    + " for a value of shape " + Arrays.toString(value.shape()));
        }
        if (!requiresGrad) throw new IllegalStateException("backward: " + this + " does not require grad (no parameter reaches it)");
        BackwardPass.run(this, upstream);
    }

    /** Adds g into this leaf's gradient (a fresh F32 copy the first time, then in place). */
    void accumulate(Tensor g) {
        accumulate(g, false);
    }

    /**
     * Adds g into this leaf's gradient. The first time, an {@code exclusive} g (no one else holds its
     * storage) that is already a whole heap F32 array of the value's shape is kept as the gradient
     * itself instead of being copied; otherwise the gradient is a fresh F32 copy. Later, in place.
     */
    void accumulate(Tensor g, boolean exclusive) {
        if (grad == null) {
            if (exclusive && ownsWholeArray(g) && g.storage() != value.storage()) {
                grad = g;
                return;
            }
            grad = Tensor.zeros(DType.F32, value.shape());
            Backend.cpu().copy(g, grad);
        } else {
            Pointwise.add(grad, g, grad);
        }
    }

    /** True when t is contiguous heap F32 covering its whole backing array from index 0. */
    static boolean ownsWholeArray(Tensor t) {
        float[] a = t.dtype() == DType.F32 ? t.storage().floatArray() : null;
        return a != null && t.offset() == 0 && t.isContiguous() && a.length == t.numel();
    }

    // ---- view shortcuts ------------------------------------------------------------------------

    public Variable reshape(int... shape) {
        return Views.reshape(this, shape);
    }

    public Variable view(int... shape) {
        return Views.view(this, shape);
    }

    public Variable transpose(int d0, int d1) {
        return Views.transpose(this, d0, d1);
    }

    public Variable t() {
        return Views.transpose(this, -2, -1);
    }

    public Variable permute(int... order) {
        return Views.permute(this, order);
    }

    public Variable narrow(int dim, int start, int length) {
        return Views.narrow(this, dim, start, length);
    }

    public Variable select(int dim, int index) {
        return Views.select(this, dim, index);
    }

    public Variable unsqueeze(int dim) {
        return Views.unsqueeze(this, dim);
    }

    public Variable squeeze(int dim) {
        return Views.squeeze(this, dim);
    }

    public Variable expand(int... shape) {
        return Views.expand(this, shape);
    }

    @Override
    public String toString() {
        String kind = node != null ? "result of " + node.op : requiresGrad ? "parameter" : "constant";
        return "Variable(" + (name != null ? name + ", " : "") + kind + ", " + value + ")";
    }
}
