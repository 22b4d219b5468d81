package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.jtune.tensor.Erf;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;
import org.jtune.tensor.VectorMath;

/**
 * The backward rules of the elementwise functions, dx = g·f'(s) with s the saved input x or output
 * y ({@link UnaryOp#gradientFromOutput()}), and of x^p: each a scalar form (the tail, and the same
 * float operations in the same order as the vector form where no transcendental is involved) and a
 * Vector API form; {@link UnaryOp#derivative} is their double-precision reference.
 */
final class UnaryBackward {
    private UnaryBackward() {}

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    static void unary(UnaryOp op, Tensor saved, Tensor g, Tensor out) {
        Elementwise.map2(rule(op), saved, g, out);
    }

    /** out ← g·p·x^(p−1); x^q per lane with Math.pow, as the forward (the vector POW differs between JIT stages). */
    static void pow(Tensor x, float p, Tensor g, Tensor out) {
        Elementwise.map2(new Elementwise.FloatFn2() {
            public float apply(float xi, float gi) {
                return gi * (p * (float) Math.pow(xi, p - 1));
            }

            public FloatVector apply(FloatVector xi, FloatVector gi) {
                if (p == 2f) return gi.mul(xi.mul(2f));
                float[] a = xi.toArray();
                for (int i = 0; i < a.length; i++) a[i] = (float) Math.pow(a[i], p - 1);
                return gi.mul(FloatVector.fromArray(xi.species(), a, 0).mul(p));
            }
        }, x, g, out);
    }

    private static Elementwise.FloatFn2 rule(UnaryOp op) {
        return switch (op) {
            case NEG -> of((s, g) -> -g, (s, g) -> g.neg());
            case EXP -> of((y, g) -> g * y, (y, g) -> g.mul(y));
            case LOG -> of((x, g) -> g / x, (x, g) -> g.div(x));
            case SQRT -> of((y, g) -> 0.5f * g / y, (y, g) -> g.mul(0.5f).div(y));
            case RSQRT -> of((y, g) -> g * (y * y * y) * -0.5f, (y, g) -> g.mul(y.mul(y).mul(y)).mul(-0.5f));
            case ABS -> of((x, g) -> x > 0 ? g : x < 0 ? -g : x == 0 ? 0f : Float.NaN, (x, g) -> g
                    .blend(g.neg(), x.lt(0f)).blend(0f, x.eq(0f)).blend(Float.NaN, x.test(VectorOperators.IS_NAN)));
            case TANH -> of((y, g) -> g * (1f - y * y), (y, g) -> g.mul(y.mul(y).neg().add(1f)));
            case SIGMOID -> of((y, g) -> g * y * (1f - y), (y, g) -> g.mul(y).mul(y.neg().add(1f)));
            case SILU -> of((x, g) -> {
                float s = (float) (1.0 / (1.0 + Math.exp(-x)));
                return g * s * (1f + x * (1f - s));
            }, (x, g) -> {
                FloatVector s = VectorMath.sigmoid(x);
                return g.mul(s).mul(x.mul(s.neg().add(1f)).add(1f));
            });
            case GELU_TANH -> of((x, g) -> {
                float t = (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
                float du = SQRT_2_OVER_PI * (1f + 3f * 0.044715f * x * x);
                return g * (0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du);
            }, (x, g) -> {
                FloatVector x2 = x.mul(x);
                FloatVector t = VectorMath.tanh(x2.mul(0.044715f).add(1f).mul(x).mul(SQRT_2_OVER_PI));
                FloatVector du = x2.mul(3f * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
                return g.mul(t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(du)));
            });
            case GELU_ERF -> perLane((x, g) -> {
                double cdf = 0.5 * (1.0 + Erf.erf(x / Math.sqrt(2.0)));
                double pdf = Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
                return (float) (g * (cdf + x * pdf));
            });
            case RELU -> of((x, g) -> x > 0f ? g : 0f, (x, g) -> g.blend(0f, x.compare(VectorOperators.GT, 0f).not()));
            case SQUARE -> of((x, g) -> g * (2f * x), (x, g) -> g.mul(x.mul(2f)));
            case RECIPROCAL -> of((y, g) -> -(g * (y * y)), (y, g) -> g.mul(y.mul(y)).neg());
        };
    }

    @FunctionalInterface
    private interface Scalar2 {
        float apply(float s, float g);
    }

    @FunctionalInterface
    private interface Vector2 {
        FloatVector apply(FloatVector s, FloatVector g);
    }

    private static Elementwise.FloatFn2 of(Scalar2 scalar, Vector2 vector) {
        return new Elementwise.FloatFn2() {
            public float apply(float s, float g) {
                return scalar.apply(s, g);
            }

            public FloatVector apply(FloatVector s, FloatVector g) {
                return vector.apply(s, g);
            }
        };
    }

    /** A rule with no vector form: applied lane by lane. */
    private static Elementwise.FloatFn2 perLane(Scalar2 scalar) {
        return new Elementwise.FloatFn2() {
            public float apply(float s, float g) {
                return scalar.apply(s, g);
            }

            public FloatVector apply(FloatVector s, FloatVector g) {
                float[] a = s.toArray(), b = g.toArray();
                for (int i = 0; i < a.length; i++) a[i] = scalar.apply(a[i], b[i]);
                return FloatVector.fromArray(s.species(), a, 0);
            }
        };
    }
}
