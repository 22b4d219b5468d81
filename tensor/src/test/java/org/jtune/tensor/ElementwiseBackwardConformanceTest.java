package org.jtune.tensor;

import static org.jtune.tensor.ElementwiseConformanceTest.U;
import static org.jtune.tensor.ElementwiseConformanceTest.erf;
import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backward kernels of the elementwise ops — g·f'(s) for every {@link UnaryOp} (s the saved input
 * or output), g·p·x^(p−1), SwiGLU forward and backward — and the in-place gradient sums, against
 * double references on random layouts and dtypes. The reference reads the same float inputs the
 * kernel gets (the saved y is the forward kernel's output), so each tolerance bounds the kernel's own
 * float arithmetic: about one unit roundoff u per operation on the magnitudes it combines, plus the
 * error of a transcendental (≤ 4u relative for the exp and tanh of {@link VectorMath}, and for
 * Math.exp rounded to float) carried through the formula.
 */
class ElementwiseBackwardConformanceTest {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    /** f'(s) in double, written independently of {@link UnaryOp#derivative} (erf by quadrature). */
    static double derivRef(UnaryOp op, double s) {
        return switch (op) {
            case NEG -> -1;
            case EXP -> s;
            case LOG -> 1 / s;
            case SQRT -> 1 / (2 * s);
            case RSQRT -> -s * s * s / 2;
            case ABS -> Math.signum(s);
            case TANH -> 1 - s * s;
            case SIGMOID -> s * (1 - s);
            case SILU -> {
                double sg = 1 / (1 + Math.exp(-s));
                yield sg + s * sg * (1 - sg);
            }
            case GELU_TANH -> {
                double u = SQRT_2_OVER_PI * (s + 0.044715 * s * s * s), t = Math.tanh(u);
                yield 0.5 * (1 + t) + 0.5 * s * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * s * s);
            }
            case GELU_ERF -> 0.5 * (1 + erf(s / Math.sqrt(2))) + s * Math.exp(-s * s / 2) / Math.sqrt(2 * Math.PI);
            case RELU -> s > 0 ? 1 : 0;
            case SQUARE -> 2 * s;
            case RECIPROCAL -> -s * s;
        };
    }

    /**
     * The bound on |kernel − g·f'(s)| for one element: the number of float operations of the rule times
     * u on the magnitudes they combine, and the transcendentals' relative error carried through.
     */
    static double derivTol(UnaryOp op, double s, double g) {
        double ag = Math.abs(g), d = Math.abs(derivRef(op, s));
        return switch (op) {
            case NEG, ABS, RELU -> 0;                                     // exact: a sign, a copy, a zero
            case EXP, LOG, SQRT, SQUARE -> 2 * U * ag * d;                // one or two roundings of the product
            case RSQRT, RECIPROCAL -> 5 * U * ag * d;                     // y³ or y², then the product
            case TANH -> 3 * U * ag * (s * s + Math.abs(1 - s * s));      // y², 1 − y² (may cancel), the product
            case SIGMOID -> 3 * U * ag * Math.abs(s) * (Math.abs(s) + Math.abs(1 - s));
            case SILU -> {                                                // σ within 4u, then five operations
                double sg = 1 / (1 + Math.exp(-s));
                yield ag * (10 * U * sg * (1 + Math.abs(s) * (1 - sg)) + 4 * U * sg * Math.abs(s) * sg);
            }
            case GELU_TANH -> {
                // t = tanh(u(x)) errs by 4u plus u(x)'s three roundings (≤ 3u·|u(x)|) through tanh' = 1 − t²; the
                // result's terms (1 + t)/2 and x(1 − t²)du/2 add ≈ 8 roundings on their magnitudes.
                double u = SQRT_2_OVER_PI * (s + 0.044715 * s * s * s), t = Math.tanh(u);
                double du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * s * s);
                double et = 4 * U + 3 * U * Math.abs(u) * (1 - t * t);
                double terms = 0.5 * (1 + Math.abs(t)) + 0.5 * Math.abs(s) * (1 + t * t) * du;
                yield ag * (8 * U * terms + et * (0.5 + Math.abs(s * t) * du));
            }
            case GELU_ERF -> {                                            // in double, but with 1/√(2π) rounded to float (u on the
                double pdf = Math.exp(-s * s / 2) / Math.sqrt(2 * Math.PI);  // x·φ term, which may cancel Φ), then rounded once
                yield 2 * U * ag * (0.5 * (1 + erf(s / Math.sqrt(2))) + Math.abs(s) * pdf) + 1e-12 * ag;
            }
        };
    }

    /** Inputs inside each function's domain, away from the kinks of abs and relu (whose derivative jumps). */
    static Layouts.Sample domain(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT, RSQRT -> Layouts.uniform(0.05, 5);
            case RECIPROCAL -> r -> (float) ((r.nextInt(2) == 0 ? -1 : 1) * (0.2 + 3 * r.nextDouble()));
            case ABS, RELU -> r -> (float) ((r.nextInt(2) == 0 ? -1 : 1) * (0.01 + 3 * r.nextDouble()));
            default -> r -> 2.5f * NORMAL.next(r);
        };
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void unaryBackwardOfEveryOp(Backend be) {
        Rng rng = new Rng(81);
        for (UnaryOp op : UnaryOp.values()) {
            for (int trial = 0; trial < 5; trial++) {
                int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 3000, true);
                Tensor x = Layouts.any(rng, domain(op), true, shape), g = Layouts.any(rng, NORMAL, true, shape);
                // the saved value: the input, or the forward kernel's output (what autograd keeps)
                Tensor saved = op.gradientFromOutput() ? Ops.using(be, () -> Ops.unary(op, x)) : x;
                Tensor got = Ops.using(be, () -> BackwardOps.unary(op, saved, g));
                Ref rs = Ref.of(saved), rg = Ref.of(g), want = Ref.zeros(shape);
                double[] tol = new double[want.numel()];
                for (int i = 0; i < tol.length; i++) {
                    want.v()[i] = rg.v()[i] * derivRef(op, rs.v()[i]);
                    tol[i] = derivTol(op, rs.v()[i], rg.v()[i]) + 1e-30;
                }
                Expect.close(op + " backward, saved " + describe(saved) + ", g " + describe(g), got, want, tol);
            }
        }
    }

    /** UnaryOp#derivative, the oracle the kernels are documented against, agrees with a central difference of UnaryOp#apply. */
    @Test
    void derivativeDefinitionsMatchFiniteDifferences() {
        double h = 1e-6;
        for (UnaryOp op : UnaryOp.values()) {
            for (double x : new double[] {-2.3, -0.7, 0.4, 1.9, 3.1}) {
                if ((op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT) && x <= 0) continue;
                double fd = (op.apply(x + h) - op.apply(x - h)) / (2 * h);
                double saved = op.gradientFromOutput() ? op.apply(x) : x;
                assertEquals(fd, op.derivative(saved), 1e-6 * (1 + Math.abs(fd)), op + " at " + x);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void powBackward(Backend be) {
        Rng rng = new Rng(82);
        for (float p : new float[] {2f, 3f, 0.5f, -1.5f}) {
            for (int trial = 0; trial < 4; trial++) {
                int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 3000, false);
                Tensor x = Layouts.any(rng, Layouts.uniform(0.1, 3), true, shape), g = Layouts.any(rng, NORMAL, true, shape);
                Tensor got = Ops.using(be, () -> BackwardOps.pow(x, p, g));
                Ref rx = Ref.of(x), rg = Ref.of(g), want = Ref.zeros(shape);
                double[] tol = new double[want.numel()];
                for (int i = 0; i < tol.length; i++) {
                    want.v()[i] = rg.v()[i] * p * Math.pow(rx.v()[i], p - 1);
                    // x^(p−1) in double rounded to float, times p, times g: three roundings.
                    tol[i] = 3 * U * Math.abs(want.v()[i]) + 1e-30;
                }
                Expect.close("pow " + p + " backward of " + describe(x), got, want, tol);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void swigluForwardAndBackward(Backend be) {
        Rng rng = new Rng(83);
        for (int trial = 0; trial < 12; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 5000, true);
            Tensor a = Layouts.any(rng, r -> 3 * NORMAL.next(r), true, shape), b = Layouts.any(rng, NORMAL, true, shape);
            Tensor g = Layouts.any(rng, NORMAL, true, shape);
            boolean wantGate = trial % 3 != 1, wantUp = trial % 3 != 2;
            Tensor y = Ops.using(be, () -> Ops.swiglu(a, b));
            Tensor[] d = Ops.using(be, () -> BackwardOps.swiglu(a, b, g, wantGate, wantUp));
            Ref ra = Ref.of(a), rb = Ref.of(b), rg = Ref.of(g);
            int n = ra.numel();
            Ref wy = Ref.zeros(shape), wGate = Ref.zeros(shape), wUp = Ref.zeros(shape);
            double[] ty = new double[n], tGate = new double[n], tUp = new double[n];
            for (int i = 0; i < n; i++) {
                double av = ra.v()[i], bv = rb.v()[i], gv = rg.v()[i];
                double s = 1 / (1 + Math.exp(-av)), silu = av * s;
                wy.v()[i] = silu * bv;
                wUp.v()[i] = gv * silu;
                wGate.v()[i] = gv * bv * (s + silu * (1 - s));
                // σ within 4u (exp, add, divide); silu one more product, y one more: ≤ 7u relative.
                ty[i] = 7 * U * Math.abs(wy.v()[i]) + 1e-30;
                tUp[i] = 7 * U * Math.abs(wUp.v()[i]) + 1e-30;
                // d gate: σ + silu·(1 − σ) from σ (4u) and silu (5u), 1 − σ absolute 5u·σ; then two products.
                tGate[i] = Math.abs(gv * bv) * (12 * U * (s + Math.abs(silu) * (1 - s)) + 6 * U * Math.abs(silu) * s) + 1e-30;
            }
            Expect.close("swiglu of " + describe(a) + ", " + describe(b), y, wy, ty);
            if (wantGate) Expect.close("swiglu d gate", d[0], wGate, tGate);
            else assertNull(d[0]);
            if (wantUp) Expect.close("swiglu d up", d[1], wUp, tUp);
            else assertNull(d[1]);
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void gradientSumsInPlace(Backend be) {
        Rng rng = new Rng(84);
        for (int trial = 0; trial < 12; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 5000, true);
            Tensor acc = Ops.using(be, () -> Ops.zeros(DType.F32, shape));
            Tensor init = Layouts.any(rng, NORMAL, true, shape);
            Ops.copyInto(init, acc);
            int[] small = ElementwiseConformanceTest.broadcastable(rng, shape);
            Tensor x = Layouts.any(rng, NORMAL, true, trial % 2 == 0 ? shape : small);
            Ref want = Ref.zeros(shape), ri = Ref.of(init), rx = Ref.of(x);
            double[] tol = new double[want.numel()];
            for (int i = 0; i < tol.length; i++) {
                double v = ri.v()[i] + ElementwiseConformanceTest.bcast(rx, want.unravel(i));
                want.v()[i] = v * 0.75;
                tol[i] = 2 * U * (Math.abs(ri.v()[i]) + Math.abs(v)); // one add, one product (0.75 exact)
            }
            Ops.using(be, () -> {
                Ops.addInPlace(acc, x);
                Ops.scaleInPlace(acc, 0.75f);
                return null;
            });
            Expect.close("add_ and scale_ of " + describe(x) + " into " + describe(acc), acc, want, tol);
        }
    }
}
