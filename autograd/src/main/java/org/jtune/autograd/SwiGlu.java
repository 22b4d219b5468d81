package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Parallel;
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
        Tensor y = forward(a, b);
        boolean gg = gate.requiresGrad(), gu = up.requiresGrad();
        return Graph.record("swiglu", y, g -> {
            if (gg && gu) return backwardBoth(g, a, b);
            return new Tensor[] {gg ? Pointwise.map(g, a, b, GATE_GRAD) : null, gu ? Pointwise.map(g, a, UP_GRAD) : null};
        }, gate, up);
    }

    /**
     * silu(gate)·up written out rather than through {@link Pointwise#map} with a function object: a
     * function object called inside a shared loop is not inlined once several are in use, and then
     * the vector code falls back to its slow Java form.
     */
    private static Tensor forward(Tensor gate, Tensor up) {
        Tensor ad = Pointwise.dense(gate), bd = Pointwise.dense(up);
        Tensor y = Tensor.zeros(gate.shape());
        float[] aa = Pointwise.array(ad), ba = Pointwise.array(bd), ya = Pointwise.array(y);
        int ao = (int) ad.offset(), bo = (int) bd.offset();
        int n = (int) y.numel(), grain = 1 << 14;
        var sp = Pointwise.S;
        Parallel.forRange((n + grain - 1) / grain, 1, (c0, c1) -> {
            int from = c0 * grain, to = Math.min(c1 * grain, n);
            int i = from;
            for (int bound = from + sp.loopBound(to - from); i < bound; i += sp.length()) {
                FloatVector av = FloatVector.fromArray(sp, aa, ao + i);
                av.mul(sigmoid(av)).mul(FloatVector.fromArray(sp, ba, bo + i)).intoArray(ya, i);
            }
            for (; i < to; i++) ya[i] = aa[ao + i] * sigmoid(aa[ao + i]) * ba[bo + i];
        });
        return y;
    }

    /** Both gradients in one pass over (g, gate, up), σ computed once per element. */
    private static Tensor[] backwardBoth(Tensor g, Tensor gate, Tensor up) {
        Tensor gd = Pointwise.dense(g), ad = Pointwise.dense(gate), bd = Pointwise.dense(up);
        Tensor dGate = Tensor.zeros(gate.shape()), dUp = Tensor.zeros(up.shape());
        float[] ga = Pointwise.array(gd), aa = Pointwise.array(ad), ba = Pointwise.array(bd);
        float[] da = Pointwise.array(dGate), du = Pointwise.array(dUp);
        int go = (int) gd.offset(), ao = (int) ad.offset(), bo = (int) bd.offset();
        int n = (int) dGate.numel(), grain = 1 << 14;
        var sp = Pointwise.S;
        Parallel.forRange((n + grain - 1) / grain, 1, (c0, c1) -> {
            int from = c0 * grain, to = Math.min(c1 * grain, n);
            int i = from;
            for (int bound = from + sp.loopBound(to - from); i < bound; i += sp.length()) {
                FloatVector gv = FloatVector.fromArray(sp, ga, go + i), av = FloatVector.fromArray(sp, aa, ao + i);
                FloatVector s = sigmoid(av), silu = av.mul(s);
                gv.mul(silu).intoArray(du, i);
                // d gate = g·up·σ·(1 + a·(1 − σ)) = g·up·(σ + silu·(1 − σ))
                gv.mul(FloatVector.fromArray(sp, ba, bo + i)).mul(silu.mul(s.neg().add(1f)).add(s)).intoArray(da, i);
            }
            for (; i < to; i++) {
                float s = sigmoid(aa[ao + i]), silu = aa[ao + i] * s;
                du[i] = ga[go + i] * silu;
                da[i] = ga[go + i] * ba[bo + i] * (s + silu * (1f - s));
            }
        });
        return new Tensor[] {dGate, dUp};
    }

    private static FloatVector sigmoid(FloatVector a) {
        return VectorMath.sigmoid(a);
    }

    private static float sigmoid(float a) {
        return (float) (1.0 / (1.0 + Math.exp(-a)));
    }

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
