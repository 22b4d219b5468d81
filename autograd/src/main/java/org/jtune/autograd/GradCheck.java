package org.jtune.autograd;

import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Checks analytic gradients against finite differences. The scalar checked is L = Σ_k R_k·y_k with
 * y the op's output and R a fixed random N(0, 1) tensor, so every output element takes part; the
 * analytic gradients come from {@code y.backward(R)}.
 *
 * <ul>
 * <li>{@link #againstReference}: numeric gradients by central differences of a double-precision
 *     reference forward (plain loops written by the test), with step h = 1e−6·max(1, |x|): the
 *     truncation error (h²) and rounding error (1e−16/h) are both far below F32 precision, so any
 *     difference is the error of our F32 kernels. The reference is also compared with the forward.
 * <li>{@link #againstSelf}: central differences of our own F32 forward, for compositions without
 *     a reference. F32 rounding of L (≈ 6e−8·|L|) divided by 2h dominates: with h ≈ 1e−2 the
 *     error is ≈ 3e−6·|L|/|x-scale| plus h²·|f'''|, so tolerances of a few 1e−3 are the right order.
 * </ul>
 * An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
 */
public final class GradCheck {
    private GradCheck() {}

    @FunctionalInterface
    public interface Forward {
        Variable apply(Variable[] inputs);
    }

    /** The reference forward: every input's values in row-major order (ints as doubles) → the output's, row-major. */
    @FunctionalInterface
    public interface Reference {
        double[] apply(double[][] inputs);
    }

    public record Tolerance(double rtol, double atol) {}

    /** The outcome: {@code worstRatio} = max error / allowed error (≤ 1 passes), with a description of the worst element. */
    public record Result(boolean passed, double worstRatio, int checked, String detail) {
        public void assertPassed() {
            if (!passed) throw new AssertionError("gradcheck failed: " + detail);
        }
    }

    public static Result againstReference(Forward f, Reference ref, Variable[] inputs, Tolerance forwardTol, Tolerance gradTol, long seed) {
        for (Variable v : inputs) v.zeroGrad();
        Variable y = f.apply(inputs);
        double[] r = weights(y, seed);
        y.backward(Tensor.of(toFloat(r), y.shape()));
        double[][] x = new double[inputs.length][];
        for (int i = 0; i < inputs.length; i++) x[i] = values(inputs[i].value());
        double[] yr = ref.apply(x);
        float[] yv = y.value().toFloatArray();
        if (yr.length != yv.length) throw new IllegalArgumentException("gradcheck: reference gives " + yr.length + " values, op " + yv.length);
        Worst worst = new Worst();
        for (int k = 0; k < yv.length; k++) worst.offer(yv[k], yr[k], forwardTol, "forward [" + k + "]");
        for (int i = 0; i < inputs.length; i++) {
            if (!inputs[i].requiresGrad()) continue;
            float[] a = analytic(inputs[i]);
            for (int e = 0; e < x[i].length; e++) {
                double keep = x[i][e], h = 1e-6 * Math.max(1.0, Math.abs(keep));
                x[i][e] = keep + h;
                double lp = dot(r, ref.apply(x));
                x[i][e] = keep - h;
                double lm = dot(r, ref.apply(x));
                x[i][e] = keep;
                worst.offer(a[e], (lp - lm) / (2 * h), gradTol, "input " + i + " [" + e + "]");
            }
        }
        return worst.result();
    }

    /** F32 inputs only: perturbs each element of each input requiring grad in place (restored after). */
    public static Result againstSelf(Forward f, Variable[] inputs, double step, Tolerance gradTol, long seed) {
        for (Variable v : inputs) v.zeroGrad();
        Variable y = f.apply(inputs);
        double[] r = weights(y, seed);
        y.backward(Tensor.of(toFloat(r), y.shape()));
        Worst worst = new Worst();
        for (int i = 0; i < inputs.length; i++) {
            if (!inputs[i].requiresGrad()) continue;
            Tensor t = inputs[i].value();
            if (t.dtype() != DType.F32) throw new IllegalArgumentException("gradcheck against self needs F32 inputs, got " + t);
            float[] a = analytic(inputs[i]);
            int[] shape = t.shape();
            int[] idx = new int[shape.length];
            for (int e = 0; e < a.length; e++) {
                float keep = t.get(idx);
                float hp = (float) (keep + step), hm = (float) (keep - step);
                t.set(hp, idx);
                double lp = evaluate(f, inputs, r);
                t.set(hm, idx);
                double lm = evaluate(f, inputs, r);
                t.set(keep, idx);
                worst.offer(a[e], (lp - lm) / ((double) hp - hm), gradTol, "input " + i + " [" + e + "]");
                for (int d = shape.length - 1; d >= 0; d--) {
                    if (++idx[d] < shape[d]) break;
                    idx[d] = 0;
                }
            }
        }
        return worst.result();
    }

    private static double evaluate(Forward f, Variable[] inputs, double[] r) {
        try (var g = NoGrad.enter()) {
            return dot(r, values(f.apply(inputs).value()));
        }
    }

    private static float[] analytic(Variable v) {
        return v.grad() == null ? new float[(int) v.value().numel()] : v.grad().toFloatArray();
    }

    private static double[] weights(Variable y, long seed) {
        Rng rng = new Rng(seed);
        double[] r = new double[(int) y.value().numel()];
        for (int k = 0; k < r.length; k++) r[k] = (float) rng.nextGaussian();
        return r;
    }

    private static double[] values(Tensor t) {
        double[] d = new double[(int) t.numel()];
        if (t.dtype().isFloating()) {
            float[] f = t.toFloatArray();
            for (int k = 0; k < d.length; k++) d[k] = f[k];
        } else {
            int[] n = t.toIntArray();
            for (int k = 0; k < d.length; k++) d[k] = n[k];
        }
        return d;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int k = 0; k < d.length; k++) f[k] = (float) d[k];
        return f;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) s += a[k] * b[k];
        return s;
    }

    private static final class Worst {
        double ratio = 0;
        int checked = 0;
        int failures = 0;
        String detail = "no elements";

        void offer(double got, double want, Tolerance tol, String where) {
            checked++;
            double err = Math.abs(got - want);
            double ratio = Double.isNaN(got) || Double.isNaN(want) ? Double.POSITIVE_INFINITY : err / (tol.atol() + tol.rtol() * Math.abs(want));
            if (ratio > 1) failures++;
            if (ratio > this.ratio || checked == 1) {
                this.ratio = ratio;
                detail = where + ": got " + got + ", want " + want + " (error " + err + ", " + String.format("%.3g", ratio)
                        + "× the tolerance rtol " + tol.rtol() + " atol " + tol.atol() + ")";
            }
        }

        Result result() {
            return new Result(ratio <= 1, ratio, checked, failures + " of " + checked + " checks failed; worst " + detail);
        }
    }
}
