package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable rotary position embedding (Su et al. 2021), Hugging Face rotate_half layout:
 * x (B, T, H, D), positions (B, T) I32, invFreq (D/2). The rotation R(θ) is orthogonal, so the
 * backward is the inverse rotation of the gradient: dx = R(−θ)·g (the kernel's {@code inverse} flag).
 * Nothing is saved but the positions and frequencies.
 */
public final class Rope {
    private Rope() {}

    public static Variable apply(Variable x, Tensor positions, Tensor invFreq) {
        Tensor y = Ops.rope(x.value(), positions, invFreq);
        return Graph.record("rope", y, g -> new Tensor[] {BackwardOps.rope(g, positions, invFreq)}, x);
    }
}
