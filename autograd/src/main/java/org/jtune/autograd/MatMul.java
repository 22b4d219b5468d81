package org.jtune.autograd;

import static org.jtune.tensor.BackwardOps.sumTo;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable matrix product with numpy semantics (batch dims broadcast, a 1-D b is a vector).
 * Y = A·B;  dA = G·Bᵀ,  dB = Aᵀ·G, each summed over the batch dims its operand was broadcast
 * along. Transposes are stride views handed to the GEMM, never copies; an operand that does not
 * require grad (a frozen weight) gets no product computed for it.
 */
public final class MatMul {
    private MatMul() {}

    public static Variable apply(Variable a, Variable b) {
        if (b.rank() == 1) return apply(a, b.unsqueeze(1)).squeeze(-1);
        boolean ga = a.requiresGrad(), gb = b.requiresGrad();
        Tensor av = a.value(), bv = b.value();
        Tensor y = Ops.matmul(av, bv);
        Tensor savedA = gb ? av : null, savedB = ga ? bv : null; // dA needs B, dB needs A
        int[] as = av.shape(), bs = bv.shape();
        return Graph.record("matmul", y, g -> new Tensor[] {
                ga ? sumTo(Ops.matmul(g, savedB.transpose(-2, -1)), as) : null,
                gb ? sumTo(Ops.matmul(savedA.transpose(-2, -1), g), bs) : null}, a, b);
    }
}
