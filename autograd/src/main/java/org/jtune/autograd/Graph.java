package org.jtune.autograd;

import org.jtune.tensor.Tensor;

/**
 * The recording side of autograd, used by every differentiable op (and by other modules that define
 * their own): an op computes its forward on tensors, then calls {@link #record} with the output and
 * its backward rule. Nothing is recorded, and the rule is dropped at once, when no input requires
 * grad or a {@link NoGrad} scope is active, so an op under no-grad costs its forward kernel only.
 * Ops whose saved state costs extra work (a logsumexp, a mask) test {@link #recording} first.
 */
public final class Graph {
    private Graph() {}

    /** True when an op over these inputs must record a node: some input requires grad and grad mode is on. */
    public static boolean recording(Variable... inputs) {
        if (NoGrad.active()) return false;
        for (Variable v : inputs) if (v != null && v.requiresGrad()) return true;
        return false;
    }

    /** The output of a single-output op; recorded with {@code rule} when {@link #recording} says so. */
    public static Variable record(String op, Tensor out, Backward rule, Variable... inputs) {
        if (OpProfile.ENABLED) OpProfile.forward(op);
        if (!recording(inputs)) return Variable.constant(out);
        Node node = new Node(op, 1, inputs.clone(), grads -> rule.apply(grads[0]));
        return new Variable(out, node, 0);
    }

    /** The outputs of a multi-output op, all produced by one node. */
    public static Variable[] record(String op, Tensor[] outs, Backward.Multi rule, Variable... inputs) {
        if (OpProfile.ENABLED) OpProfile.forward(op);
        Variable[] result = new Variable[outs.length];
        if (!recording(inputs)) {
            for (int i = 0; i < outs.length; i++) result[i] = Variable.constant(outs[i]);
            return result;
        }
        Node node = new Node(op, outs.length, inputs.clone(), rule);
        for (int i = 0; i < outs.length; i++) result[i] = new Variable(outs[i], node, i);
        return result;
    }
}
