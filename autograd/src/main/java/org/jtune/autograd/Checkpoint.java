package org.jtune.autograd;

import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Gradient checkpointing (Chen et al. 2016): trade compute for memory by not keeping a block's
 * intermediate tensors. The forward runs the block under {@link NoGrad} and keeps only its inputs;
 * the backward runs the block again with recording and back-propagates through that fresh graph.
 *
 * <p>The block must be a function of its {@code inputs} and of leaves it captures (parameters, whose
 * gradients then accumulate as usual); a recorded non-leaf it reads must be passed as an input. If
 * the block draws random numbers (dropout), pass its {@link Rng}: its state is rewound for the
 * recomputation so the same masks are drawn, and restored afterwards.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** A block of the forward pass. */
    @FunctionalInterface
    public interface Block {
        Variable apply(Variable... inputs);
    }

    public static Variable apply(Block block, Variable... inputs) {
        return apply(true, null, block, inputs);
    }

    /** Checkpoints when {@code enabled}; otherwise simply runs the block (the caller's switch). */
    public static Variable apply(boolean enabled, Block block, Variable... inputs) {
        return apply(enabled, null, block, inputs);
    }

    public static Variable apply(boolean enabled, Rng rng, Block block, Variable... inputs) {
        if (!enabled || NoGrad.active()) return block.apply(inputs);
        long rngState = rng == null ? 0 : rng.state();
        Variable[] detached = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) detached[i] = inputs[i].detach();
        Tensor out;
        try (var g = NoGrad.enter()) {
            out = block.apply(detached).value();
        }
        // Record even when no input requires grad: captured parameters may.
        Node node = new Node("checkpoint", 1, inputs.clone(), grads -> {
            long after = rng == null ? 0 : rng.state();
            if (rng != null) rng.setState(rngState);
            Variable[] fresh = new Variable[inputs.length];
            for (int i = 0; i < inputs.length; i++) fresh[i] = Variable.of(inputs[i].value(), inputs[i].requiresGrad());
            try (var s = NoGrad.suspend()) {
                Variable y = block.apply(fresh);
                if (y.requiresGrad()) y.backward(grads[0]);
            } finally {
                if (rng != null) rng.setState(after);
            }
            Tensor[] r = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) r[i] = fresh[i].grad();
            return r;
        });
        return new Variable(out, node, 0);
    }
}
