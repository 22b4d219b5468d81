package org.jtune.train.optim;

import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ with the 2-norm: the norm of all
 * gradients taken together, and when it exceeds {@code maxNorm} every gradient is scaled in place by
 * maxNorm / (norm + 1e-6). Each gradient's Σ g² is the backend's double-precision reduction
 * ({@link Ops#sumOfSquares}, whose order depends only on the element count), added over the
 * parameters in order, so the norm does not depend on the thread count. Parameters without a
 * gradient count as zero.
 */
public final class GradientClipping {
    private GradientClipping() {}

    /** The 2-norm of all gradients. A non-finite gradient gives a non-finite norm. */
    public static double globalNorm(List<Variable> params) {
        double sum = 0;
        for (Variable p : params) {
            Tensor g = p.grad();
            if (g != null) sum += Ops.sumOfSquares(g);
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales the gradients so that their global norm is at most {@code maxNorm}; returns the norm
     * before clipping (what to log). {@code maxNorm} ≤ 0 only measures. A NaN or infinite norm
     * leaves the gradients as they are (the caller decides to skip the step).
     */
    public static double clip(List<Variable> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0 && Double.isFinite(norm) && norm > maxNorm) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            for (Variable p : params) {
                Tensor g = p.grad();
                if (g != null) Ops.scaleInPlace(g, coef);
            }
        }
        return norm;
    }
}
