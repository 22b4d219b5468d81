package org.jtune.train.optim;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;

/**
 * Updates parameters in place from their gradients, one {@link #step(double)} per optimizer step
 * (after gradient accumulation and clipping). The learning rate is passed in each step by the
 * caller, from an {@link LrSchedule}. State round-trips exactly through {@link #state()} and
 * {@link #restore(OptimizerState)}, so a resumed run continues bit for bit.
 */
public sealed interface Optimizer permits AdamW, Sgd {
    /** One update of every parameter with learning rate {@code lr}; a parameter without a gradient is updated as with a zero one. */
    void step(double lr);

    /** Number of completed steps. */
    long stepCount();

    List<ParamGroup> groups();

    /** Empties every gradient (before accumulating the next step's micro-batches); the buffers stay and are overwritten. */
    default void zeroGrad() {
        for (ParamGroup g : groups()) {
            for (Variable p : g.params()) p.zeroGrad();
        }
    }

    /** The live state (see {@link OptimizerState}). */
    OptimizerState state();

    /**
     * Replaces the state with {@code saved} (copying the data in). Fails naming the tensor when the
     * saved state is of another kind, misses a parameter's buffer, has one of another shape, or has
     * buffers for parameters this optimizer does not have.
     */
    void restore(OptimizerState saved) throws JtuneException;
}
