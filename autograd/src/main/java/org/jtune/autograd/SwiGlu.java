package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * The gated unit of a Llama MLP as one op (Shazeer 2020):
 * <pre>
 *   y = silu(gate) ∘ up,  silu(a) = a·σ(a)                                        (forward)
 *   d gate = g ∘ up ∘ σ(gate)·(1 + gate·(1 − σ(gate))),  d up = g ∘ silu(gate)     (backward)
 * </pre>
 * Nothing beyond the inputs is saved; the backward recomputes σ.
 */
public final class SwiGlu {
    private SwiGlu() {}

    public static Variable apply(Variable gate, Variable up) {
        Tensor a = gate.value(), b = up.value();
        Tensor y = Ops.swiglu(a, b);
        boolean gg = gate.requiresGrad(), gu = up.requiresGrad();
        return Graph.record("swiglu", y, g -> BackwardOps.swiglu(a, b, g, gg, gu), gate, up);
    }
}
