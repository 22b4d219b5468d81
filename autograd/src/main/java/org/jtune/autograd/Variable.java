package org.jtune.autograd;

import java.util.Arrays;
import org.jtune.tensor.BufferPool;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * A tensor taking part in differentiation: its value, whether gradients flow to it, and, for the
 * result of a recorded op, the graph node that produced it. A leaf that requires grad is a parameter:
 * it has a name (the Hugging Face tensor name of a weight; optimizers and checkpoints address it by
 * it) and exactly one gradient buffer, an F32 contiguous tensor of the value's shape on the value's
 * device, allocated the first time a gradient arrives and kept from then on. Backward passes add
 * into it until {@link #zeroGrad()}, which only marks it empty, so that the next gradient overwrites
 * it: no step allocates or clears gradient memory. Results of ops do not keep gradients. The value may
 * be any dtype (a frozen BF16 weight, I32 ids).
 *
 * <p>The view methods here ({@link #reshape}, {@link #transpose}, ...) are shortcuts for {@link Views}.
 */
public final class Variable {
    private final Tensor value;
    private final boolean requiresGrad;
    final Node node;       // null for leaves and constants
    final int outputIndex; // which output of node this is
    private Tensor grad;            // a leaf's gradient buffer, kept across zeroGrad
    private boolean gradEmpty = true; // no gradient since the last zeroGrad: the next one is written, not added
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
        return gradEmpty ? null : grad;
    }

    /** Forgets the accumulated gradient: the buffer is kept and the next gradient overwrites it (nothing is cleared). */
    public void zeroGrad() {
        gradEmpty = true;
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
        backward(Tensor.full(1f, value.shape()).to(value.device()));
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

    /**
     * Adds g (of the value's shape) into this leaf's gradient, as a backward pass delivers one: for
     * gradients computed outside the graph, and tests.
     */
    public void accumulateGrad(Tensor g) {
        if (!requiresGrad || node != null) throw new IllegalStateException("accumulateGrad: " + this + " is not a parameter");
        if (!Arrays.equals(g.shape(), value.shape())) {
            throw new IllegalArgumentException("accumulateGrad: gradient of shape " + Arrays.toString(g.shape()) + " for " + this);
        }
        accumulate(g, false);
    }

    /**
     * Adds g into this leaf's gradient. After {@link #zeroGrad()} g is copied into the buffer (or, the
     * very first time, an {@code exclusive} g — no one else holds its storage — that is a whole F32
     * storage of the value's shape becomes the buffer itself, unless a {@link BufferPool} scope is
     * active, whose memory must not outlive it); otherwise g is added in place.
     */
    void accumulate(Tensor g, boolean exclusive) {
        if (!gradEmpty) {
            Ops.addInPlace(grad, g);
            return;
        }
        if (grad == null && exclusive && ownsWholeStorage(g) && g.storage() != value.storage() && g.device().equals(value.device())
                && !BufferPool.active()) {
            grad = g;
        } else {
            Ops.copyInto(g, gradBuffer());
        }
        gradEmpty = false;
    }

    /** Writes this leaf's gradient in place, for a rule that computes it straight into the buffer (no temporary). */
    @FunctionalInterface
    interface GradWriter {
        /** Writes the gradient into {@code buffer}, adding to it when {@code accumulate}, else overwriting it. */
        void write(Tensor buffer, boolean accumulate);
    }

    /** Lets {@code writer} add this leaf's gradient into its buffer (or overwrite it after {@link #zeroGrad()}). */
    void writeGrad(GradWriter writer) {
        boolean accumulate = !gradEmpty;
        writer.write(gradBuffer(), accumulate);
        gradEmpty = false;
    }

    /** The gradient buffer, allocated (zeroed, outside any buffer pool) the first time. */
    private Tensor gradBuffer() {
        if (grad == null) grad = BufferPool.outside(() -> Ops.zerosOn(value, value.shape()));
        return grad;
    }

    /** True when t is contiguous F32 covering its whole storage from offset 0 (a tensor a rule made for one purpose). */
    static boolean ownsWholeStorage(Tensor t) {
        return t.dtype() == DType.F32 && t.offset() == 0 && t.isContiguous() && t.storage().byteSize() == t.numel() * 4;
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
