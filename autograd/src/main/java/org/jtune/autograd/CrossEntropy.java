package org.jtune.autograd;

import java.util.Arrays;
import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Fused cross-entropy over a (large) vocabulary: loss = Σ_{rows with target ≠ ignoreIndex}
 * (lse_i − x_i[target_i]) / normaliser, with lse_i = log Σ_j e^{x_ij}. The normaliser is the
 * caller's (the number of target tokens of the whole accumulation window, say), so summed losses
 * of micro-batches add up to the window's mean. Logits (..., V), targets (...) I32.
 *
 * <p>Gradient: dx_ij = (softmax(x_i)_j − [j = target_i]) · upstream / normaliser, zero for ignored
 * rows. Two strategies, both working row by row so N×V logits are never held twice at once before
 * the backward:
 * <ul>
 * <li>{@link #apply}: the forward saves only lse (N floats); the backward recomputes softmax from
 *     the logits (one more exp per logit) into a fresh gradient tensor.
 * <li>{@link #applyConsumingLogits}: the forward writes the gradient into the logits buffer in the
 *     same pass that computes the loss, so no second N×V buffer ever exists; the backward only
 *     scales it by the upstream gradient. The logits tensor is destroyed: use it only when nothing
 *     reads the logits after the loss (the usual training step).
 * </ul>
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    public static Variable apply(Variable logits, Tensor targets, int ignoreIndex, float normaliser) {
        return fused(logits, targets, ignoreIndex, normaliser, false);
    }

    public static Variable applyConsumingLogits(Variable logits, Tensor targets, int ignoreIndex, float normaliser) {
        return fused(logits, targets, ignoreIndex, normaliser, true);
    }

    private static Variable fused(Variable logits, Tensor targets, int ignoreIndex, float normaliser, boolean inPlace) {
        Tensor lv = logits.value();
        if (!lv.dtype().isFloating() || targets.dtype() != DType.I32 || lv.rank() < 1
                || !Arrays.equals(Arrays.copyOf(lv.shape(), lv.rank() - 1), targets.shape())) {
            throw new IllegalArgumentException("cross_entropy: need floating logits (..., V) and I32 targets (...), got "
                    + lv + " and " + targets);
        }
        if (!(normaliser > 0)) throw new IllegalArgumentException("cross_entropy: normaliser must be positive, got " + normaliser);
        int v = lv.size(-1), n = (int) targets.numel();
        int[] shape = lv.shape();
        Tensor x = lv.reshape(n, v), t = targets.reshape(n);
        float invNorm = 1f / normaliser;
        if (!Graph.recording(logits)) return Variable.constant(loss(Ops.crossEntropyPerRow(x, t, ignoreIndex), normaliser));
        if (inPlace) {
            Tensor[] lg = BackwardOps.crossEntropyWithGrad(x, t, ignoreIndex, invNorm, true);
            Tensor grad = lg[1];
            return Graph.record("cross_entropy_inplace", loss(lg[0], normaliser), g -> {
                float u = g.item();
                if (u != 1f) Ops.scaleInPlace(grad, u);
                return new Tensor[] {grad.view(shape)};
            }, logits);
        }
        Tensor[] ll = Ops.crossEntropyWithLse(x, t, ignoreIndex, true);
        Tensor lse = ll[1];
        return Graph.record("cross_entropy", loss(ll[0], normaliser),
                g -> new Tensor[] {BackwardOps.crossEntropy(x, t, ignoreIndex, lse, g.item() * invNorm).view(shape)}, logits);
    }

    /** Σ per-row losses (in double, in row order) / normaliser, as a 0-d tensor. */
    private static Tensor loss(Tensor perRow, float normaliser) {
        double total = 0;
        for (float l : perRow.toFloatArray()) total += l;
        return Tensor.scalar((float) (total / normaliser));
    }
}
