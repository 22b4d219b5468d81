package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Tensor;

/**
 * The gated unit of a Llama MLP as one op (Shazeer 2020): y = silu(gate) ∘ up, silu(a) = a·σ(a).
 * Nothing beyond the inputs is saved; the backward recomputes σ:
 * d gate = g ∘ up ∘ σ(gate)·(1 + gate·(1 − σ(gate))),  d up = g ∘ silu(gate).
 */
public final class SwiGlu {
    private SwiGlu() {}

    public static Variable apply(Variable gate, Variable up) {
        Tensor a = gate.value(), b = up.value();
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("swiglu: gate " + Arrays.toString(a.shape()) + " and up " + Arrays.toString(b.shape()) + " differ");
        }
        Tensor y = Pointwise.map(a, b, FORWARD);
        boolean gg = gate.requiresGrad(), gu = up.requiresGrad();
        return Graph.record("swiglu", y, g -> new Tensor[] {
                gg ? Pointwise.map(g, a, b, GATE_GRAD) : null,
                gu ? Pointwise.map(g, a, UP_GRAD) : null}, gate, up);
    }

    private static FloatVector sigmoid(FloatVector a) {
        return VectorMath.sigmoid(a);
    }

    private static float sigmoid(float a) {
        return (float) (1.0 / (1.0 + Math.exp(-a)));
    }

    /** (gate, up) → silu(gate)·up. */
    private static final Pointwise.Fn2 FORWARD = new Pointwise.Fn2() {
        public float apply(float a, float b) {
            return a * sigmoid(a) * b;
        }

        public FloatVector apply(FloatVector a, FloatVector b) {
            return a.mul(sigmoid(a)).mul(b);
        }
    };

    /** (g, gate, up) → g·up·σ(gate)·(1 + gate·(1 − σ(gate))). */
    private static final Pointwise.Fn3 GATE_GRAD = new Pointwise.Fn3() {
        public float apply(float g, float a, float b) {
            float s = sigmoid(a);
            return g * b * s * (1f + a * (1f - s));
        }

        public FloatVector apply(FloatVector g, FloatVector a, FloatVector b) {
            FloatVector s = sigmoid(a);
            return g.mul(b).mul(s).mul(a.mul(s.neg().add(1f)).add(1f));
        }
    };

    /** (g, gate) → g·silu(gate). */
    private static final Pointwise.Fn2 UP_GRAD = new Pointwise.Fn2() {
        public float apply(float g, float a) {
            return g * a * sigmoid(a);
        }

        public FloatVector apply(FloatVector g, FloatVector a) {
            return g.mul(a).mul(sigmoid(a));
        }
    };
}
