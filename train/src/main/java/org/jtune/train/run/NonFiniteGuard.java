package org.jtune.train.run;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.tensor.NonFinite;
import org.jtune.autograd.Variable;

/**
 * Stops a run at the first step whose loss or gradient is NaN or infinite, before the optimizer
 * applies it, and before a checkpoint would save weights that went non-finite: a run that diverged
 * used to log "loss": NaN for every remaining step and write an all-NaN adapter. The message names
 * the step, the first tensor (gradient or weight) that holds a non-finite value and where, and the
 * last good checkpoint, which stays the newest one.
 */
final class NonFiniteGuard {
    private Path lastGood;
    private long lastGoodStep = -1;

    /** Records the newest checkpoint written (or resumed from) with finite weights. */
    void saved(Path checkpoint, long step) {
        lastGood = checkpoint;
        lastGoodStep = step;
    }

    /** After the backward pass of {@code step} (gradients in the parameters), before clipping and the update. */
    void checkLoss(long step, double loss, List<Variable> params) throws JtuneException {
        if (Double.isFinite(loss)) return;
        throw stopped(step, "the loss is " + loss, params);
    }

    /** After the gradient norm is known, before the update. */
    void checkGradNorm(long step, double gradNorm, List<Variable> params) throws JtuneException {
        if (Double.isFinite(gradNorm)) return;
        throw stopped(step, "the gradient norm is " + gradNorm, params);
    }

    /** Before a checkpoint of {@code step} is written: the weights after its update. */
    void checkWeights(long step, List<Variable> params) throws JtuneException {
        for (Variable p : params) {
            NonFinite.Found f = NonFinite.first(p.value());
            if (f != null) throw stopped(step, "the weights went non-finite after the update", params);
        }
    }

    private JtuneException stopped(long step, String what, List<Variable> params) {
        return new JtuneException("step " + step + ": " + what + " (" + culprit(params) + "); training stopped. "
                + (lastGood == null ? "No checkpoint had been written yet."
                : "The last good checkpoint is " + lastGood + " (step " + lastGoodStep + "); nothing after it was saved.")
                + " Lower learning_rate or set max_grad_norm and start a new run (resuming this one would diverge again at the same step)");
    }

    /** The first gradient, else the first weight, holding a non-finite value. */
    private static String culprit(List<Variable> params) {
        for (Variable p : params) {
            NonFinite.Found f = p.grad() == null ? null : NonFinite.first(p.grad());
            if (f != null) return "first in the gradient of " + p.name() + ": " + f.describe();
        }
        for (Variable p : params) {
            NonFinite.Found f = NonFinite.first(p.value());
            if (f != null) return "first in the weight " + p.name() + ": " + f.describe();
        }
        return "every trained tensor is finite: the forward pass overflowed";
    }
}
