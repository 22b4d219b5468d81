package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Erf;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable elementwise functions. Each forward is the tensor module's kernel; each backward
 * is dx = g·f'(x), written next to it from x or from the saved output y, whichever is cheaper.
 */
public final class Activations {
    private Activations() {}

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    /** y = eˣ;  dx = g·y. */
    public static Variable exp(Variable x) {
        Tensor y = Ops.exp(x.value());
        return Graph.record("exp", y, g -> new Tensor[] {Ops.mul(g, y)}, x);
    }

    /** y = ln x;  dx = g/x. */
    public static Variable log(Variable x) {
        Tensor xv = x.value();
        return Graph.record("log", Ops.log(xv), g -> new Tensor[] {Ops.div(g, xv)}, x);
    }

    /** y = √x;  dx = g/(2y). */
    public static Variable sqrt(Variable x) {
        Tensor y = Ops.sqrt(x.value());
        return Graph.record("sqrt", y, g -> new Tensor[] {Pointwise.map(g, y, new Pointwise.Fn2() {
            public float apply(float gi, float yi) {
                return 0.5f * gi / yi;
            }

            public FloatVector apply(FloatVector gi, FloatVector yi) {
                return gi.mul(0.5f).div(yi);
            }
        })}, x);
    }

    /** y = 1/√x;  dx = −g·y³/2. */
    public static Variable rsqrt(Variable x) {
        Tensor y = Ops.rsqrt(x.value());
        return Graph.record("rsqrt", y, g -> new Tensor[] {Pointwise.map(g, y, new Pointwise.Fn2() {
            public float apply(float gi, float yi) {
                return -0.5f * gi * yi * yi * yi;
            }

            public FloatVector apply(FloatVector gi, FloatVector yi) {
                return gi.mul(yi.mul(yi).mul(yi)).mul(-0.5f);
            }
        })}, x);
    }

    /** y = tanh x;  dx = g·(1 − y²). */
    public static Variable tanh(Variable x) {
        Tensor y = Ops.tanh(x.value());
        return Graph.record("tanh", y, g -> new Tensor[] {Pointwise.map(g, y, new Pointwise.Fn2() {
            public float apply(float gi, float yi) {
                return gi * (1f - yi * yi);
            }

            public FloatVector apply(FloatVector gi, FloatVector yi) {
                return gi.mul(yi.mul(yi).neg().add(1f));
            }
        })}, x);
    }

    /** y = σ(x) = 1/(1 + e⁻ˣ);  dx = g·y·(1 − y). */
    public static Variable sigmoid(Variable x) {
        Tensor y = Ops.sigmoid(x.value());
        return Graph.record("sigmoid", y, g -> new Tensor[] {Pointwise.map(g, y, new Pointwise.Fn2() {
            public float apply(float gi, float yi) {
                return gi * yi * (1f - yi);
            }

            public FloatVector apply(FloatVector gi, FloatVector yi) {
                return gi.mul(yi).mul(yi.neg().add(1f));
            }
        })}, x);
    }

    /** y = x·σ(x);  dx = g·σ(x)·(1 + x·(1 − σ(x))). */
    public static Variable silu(Variable x) {
        Tensor xv = x.value();
        return Graph.record("silu", Ops.silu(xv), g -> new Tensor[] {Pointwise.map(g, xv, SILU_GRAD)}, x);
    }

    static final Pointwise.Fn2 SILU_GRAD = new Pointwise.Fn2() {
        public float apply(float gi, float xi) {
            float s = (float) (1.0 / (1.0 + Math.exp(-xi)));
            return gi * s * (1f + xi * (1f - s));
        }

        public FloatVector apply(FloatVector gi, FloatVector xi) {
            FloatVector s = VectorMath.sigmoid(xi);
            return gi.mul(s).mul(xi.mul(s.neg().add(1f)).add(1f));
        }
    };

    /** y = max(x, 0);  dx = g where x > 0, else 0. */
    public static Variable relu(Variable x) {
        Tensor xv = x.value();
        return Graph.record("relu", Ops.relu(xv), g -> new Tensor[] {Pointwise.map(g, xv, new Pointwise.Fn2() {
            public float apply(float gi, float xi) {
                return xi > 0f ? gi : 0f;
            }

            public FloatVector apply(FloatVector gi, FloatVector xi) {
                return gi.blend(0f, xi.compare(VectorOperators.LE, 0f));
            }
        })}, x);
    }

    /**
     * Exact GELU, y = x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2;  dx = g·(Φ(x) + x·φ(x)),
     * φ(x) = e^(−x²/2)/√(2π).
     */
    public static Variable gelu(Variable x) {
        Tensor xv = x.value();
        return Graph.record("gelu", Ops.gelu(xv), g -> new Tensor[] {Pointwise.map(g, xv, new Pointwise.Fn2() {
            public float apply(float gi, float xi) {
                double cdf = 0.5 * (1.0 + Erf.erf(xi / Math.sqrt(2.0)));
                double pdf = Math.exp(-0.5 * xi * xi) * INV_SQRT_2PI;
                return (float) (gi * (cdf + xi * pdf));
            }

            public FloatVector apply(FloatVector gi, FloatVector xi) {
                float[] a = gi.toArray(), b = xi.toArray();
                for (int i = 0; i < a.length; i++) a[i] = apply(a[i], b[i]);
                return FloatVector.fromArray(gi.species(), a, 0);
            }
        })}, x);
    }

    /**
     * GELU, tanh approximation: y = x·(1 + tanh u)/2 with u = √(2/π)·(x + 0.044715x³);
     * dx = g·((1 + tanh u)/2 + x·(1 − tanh²u)·√(2/π)·(1 + 3·0.044715x²)/2).
     */
    public static Variable geluTanh(Variable x) {
        Tensor xv = x.value();
        return Graph.record("gelu_tanh", Ops.geluTanh(xv), g -> new Tensor[] {Pointwise.map(g, xv, new Pointwise.Fn2() {
            public float apply(float gi, float xi) {
                float t = (float) Math.tanh(SQRT_2_OVER_PI * (xi + 0.044715f * xi * xi * xi));
                float du = SQRT_2_OVER_PI * (1f + 3f * 0.044715f * xi * xi);
                return gi * (0.5f * (1f + t) + 0.5f * xi * (1f - t * t) * du);
            }

            public FloatVector apply(FloatVector gi, FloatVector xi) {
                FloatVector x2 = xi.mul(xi);
                FloatVector t = VectorMath.tanh(x2.mul(0.044715f).add(1f).mul(xi).mul(SQRT_2_OVER_PI));
                FloatVector du = x2.mul(3f * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
                FloatVector d = t.add(1f).mul(0.5f).add(xi.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(du));
                return gi.mul(d);
            }
        })}, x);
    }
}
