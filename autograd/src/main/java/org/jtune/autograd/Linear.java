package org.jtune.autograd;

import static org.jtune.tensor.BackwardOps.sumTo;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * A Hugging Face Linear layer: y = x·Wᵀ (+ bias) with x (..., in) and W (out, in), W in any floating
 * dtype (a BF16 weight is read as is; nothing is converted ahead). Flattening x to (N, in):
 * dX = G·W,  dW = Gᵀ·X,  dbias = Σ_rows G. A frozen W (not requiring grad) costs only dX; a trainable
 * W (a parameter) gets Gᵀ·X accumulated by the GEMM straight into its gradient buffer, with no
 * temporary (N, in) … (out, in) product.
 */
public final class Linear {
    private Linear() {}

    public static Variable apply(Variable x, Variable w) {
        return apply(x, w, null);
    }

    public static Variable apply(Variable x, Variable w, Variable bias) {
        Tensor xv = x.value(), wv = w.value();
        if (wv.rank() != 2 || xv.size(-1) != wv.size(1)) {
            throw new IllegalArgumentException("linear: x " + java.util.Arrays.toString(xv.shape()) + " and weight "
                    + java.util.Arrays.toString(wv.shape()) + (w.name() != null ? " (" + w.name() + ")" : ""));
        }
        int in = wv.size(1), out = wv.size(0);
        Tensor y = Ops.linear(xv, wv);
        if (bias != null) y = Ops.add(y, bias.value());
        int[] xs = xv.shape();
        Variable[] inputs = bias == null ? new Variable[] {x, w} : new Variable[] {x, w, bias};
        boolean gx = x.requiresGrad(), gw = w.requiresGrad(), gbias = bias != null && bias.requiresGrad();
        Tensor savedX = gw ? xv : null; // only dW reads x; dX reads W (alive anyway as a weight)
        return Graph.record("linear", y, g -> {
            Tensor g2 = g.reshape(-1, out);
            Tensor[] r = new Tensor[inputs.length];
            if (gx) r[0] = Ops.matmul(g2, wv).view(xs);
            if (gw) {
                Tensor x2 = savedX.reshape(-1, in);
                if (w.isLeaf()) w.writeGrad((buffer, accumulate) -> Ops.matmulInto(g2.t(), x2, buffer, accumulate));
                else r[1] = Ops.matmul(g2.t(), x2);
            }
            if (gbias) r[2] = sumTo(g2, new int[] {out});
            return r;
        }, inputs);
    }
}
