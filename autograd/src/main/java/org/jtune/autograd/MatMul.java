package org.jtune.autograd;

import static org.jtune.autograd.BroadcastGrad.sumTo;

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
        Tensor av = a.value(), bv = b.value();
        return Graph.record("matmul", Ops.matmul(av, bv), g -> new Tensor[] {
                a.requiresGrad() ? sumTo(Ops.matmul(g, bv.transpose(-2, -1)), av.shape()) : null,
                b.requiresGrad() ? sumTo(Ops.matmul(av.transpose(-2, -1), g), bv.shape()) : null}, a, b);
    }
}
