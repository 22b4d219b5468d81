package org.jtune.train.optim;

import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Parameters that share optimizer settings: weight decay (norms, biases and other 1-D tensors get none, see
 * {@link WeightDecayRule}) and a factor on the schedule's learning rate (1, or LoRA+'s ratio for LoRA's B matrices,
 * see {@link LoraPlus}). A parameter is a named leaf {@link Variable} that
 * requires grad, with a contiguous F32 value (updated in place) and its one gradient buffer; the name
 * (the Hugging Face tensor name) keys the optimizer's state in checkpoints.
 */
public record ParamGroup(String name, List<Variable> params, double weightDecay, double lrScale) {
    public ParamGroup {
        params = List.copyOf(params);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("group " + name + ": weight decay must be >= 0, got " + weightDecay);
        if (!(lrScale > 0) || Double.isInfinite(lrScale)) throw new IllegalArgumentException("group " + name + ": learning-rate factor must be > 0, got " + lrScale);
        for (Variable p : params) requireParameter(p);
    }

    /** A group at the schedule's learning rate. */
    public ParamGroup(String name, List<Variable> params, double weightDecay) {
        this(name, params, weightDecay, 1);
    }

    static void requireParameter(Variable p) {
        if (p.name() == null || p.name().isEmpty()) throw new IllegalArgumentException("a parameter has no name (give it one with Variable.named): " + p);
        if (!p.requiresGrad() || !p.isLeaf()) throw new IllegalArgumentException("parameter " + p.name() + " is not a leaf that requires grad: " + p);
        Tensor v = p.value();
        if (v.dtype() != DType.F32 || !v.isContiguous()) {
            throw new IllegalArgumentException("parameter " + p.name() + ": the value must be a contiguous F32 tensor, got " + v
                    + " (copy memory-mapped or 16-bit weights to F32 before training them)");
        }
    }

    /** p's gradient, or zeros of its shape when none arrived this step (it is then updated as with a zero gradient). */
    static Tensor gradientOf(Variable p) {
        Tensor g = p.grad();
        return g != null ? g : Ops.zerosOn(p.value(), p.shape());
    }
}
