package org.jtune.autograd;

import java.util.Arrays;
import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * RMSNorm over the last dim (Zhang &amp; Sennrich 2019), one fused op:
 * <pre>
 *   y = x · r · w,  r = 1/√(mean(x²) + eps) per row                              (forward)
 *   with x̂ = x·r:  dx = r · (g∘w − x̂ · mean(g∘w∘x̂)),  dw = Σ_rows g∘x̂           (backward)
 * </pre>
 * Only r is saved beyond the inputs (one float per row). The weight may be frozen (no dw computed)
 * and in any floating dtype. Under no-grad the forward kernel runs alone, without r.
 */
public final class RmsNorm {
    private RmsNorm() {}

    public static Variable apply(Variable x, Variable weight, float eps) {
        Tensor xv = x.value(), wv = weight.value();
        if (wv.rank() != 1 || xv.rank() < 1 || wv.size(0) != xv.size(-1)) {
            throw new IllegalArgumentException("rms_norm: weight " + Arrays.toString(wv.shape()) + " does not match the last dim of "
                    + Arrays.toString(xv.shape()));
        }
        if (!Graph.recording(x, weight)) return Variable.constant(Ops.rmsNorm(xv, wv, eps));
        Tensor[] yr = Ops.rmsNormWithRstd(xv, wv, eps, true);
        Tensor rstd = yr[1];
        boolean gx = x.requiresGrad(), gw = weight.requiresGrad();
        return Graph.record("rms_norm", yr[0], g -> BackwardOps.rmsNorm(xv, wv, rstd, g, gx, gw), x, weight);
    }
}
