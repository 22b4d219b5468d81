package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import java.util.Arrays;
import java.util.concurrent.ConcurrentSkipListMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Fused RMSNorm over the last dim (Zhang &amp; Sennrich 2019): y = x · r · w with
 * r = 1/√(mean(x²) + eps) per row. Only r is saved (one float per row). With x̂ = x·r:
 * dx = r · (g∘w − x̂ · mean(g∘w∘x̂)),  dw = Σ_rows g∘x̂.
 * The weight may be frozen (no dw computed) and in any floating dtype. Under no-grad the tensor
 * module's rmsNorm kernel runs alone.
 */
public final class RmsNorm {
    private RmsNorm() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static Variable apply(Variable x, Variable weight, float eps) {
        Tensor xv = x.value(), wv = weight.value();
        if (wv.rank() != 1 || xv.rank() < 1 || wv.size(0) != xv.size(-1)) {
            throw new IllegalArgumentException("rms_norm: weight " + Arrays.toString(wv.shape()) + " does not match the last dim of "
                    + Arrays.toString(xv.shape()));
        }
        if (!Graph.recording(x, weight)) return Variable.constant(Ops.rmsNorm(xv, wv, eps));
        int d = wv.size(0);
        Tensor xd = Pointwise.dense(xv);
        int n = d == 0 ? 0 : (int) (xd.numel() / d);
        float[] xa = Pointwise.array(xd), w = Pointwise.array(Pointwise.dense(wv));
        int xo = (int) xd.offset();
        float[] rstd = new float[n];
        Tensor y = Tensor.zeros(xv.shape());
        float[] ya = Pointwise.array(y);
        Parallel.forRange(n, Math.max(1, 4096 / Math.max(d, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xb = xo + r * d, yb = r * d;
                float rs = (float) (1.0 / Math.sqrt(dot(xa, xb, xa, xb, d) / d + eps));
                rstd[r] = rs;
                int i = 0;
                for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                    FloatVector.fromArray(S, xa, xb + i).mul(rs).mul(FloatVector.fromArray(S, w, i)).intoArray(ya, yb + i);
                }
                for (; i < d; i++) ya[yb + i] = xa[xb + i] * rs * w[i];
            }
        });
        boolean gx = x.requiresGrad(), gw = weight.requiresGrad();
        return Graph.record("rms_norm", y, g -> backward(g, xa, xo, w, rstd, n, d, gx, gw), x, weight);
    }

    private static Tensor[] backward(Tensor g, float[] xa, int xo, float[] w, float[] rstd, int n, int d, boolean wantX, boolean wantW) {
        Tensor gd = Pointwise.dense(g);
        float[] ga = Pointwise.array(gd);
        int go = (int) gd.offset();
        int[] shape = g.shape();
        Tensor dx = wantX ? Tensor.zeros(shape) : null;
        float[] dxa = wantX ? Pointwise.array(dx) : null;
        ConcurrentSkipListMap<Integer, float[]> partial = new ConcurrentSkipListMap<>();
        Parallel.forRange(n, Math.max(1, 4096 / Math.max(d, 1)), (r0, r1) -> {
            float[] dw = wantW ? new float[d] : null;
            for (int r = r0; r < r1; r++) {
                int xb = xo + r * d, gb = go + r * d, ob = r * d;
                float rs = rstd[r];
                if (wantW) {
                    int i = 0;
                    for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                        FloatVector.fromArray(S, ga, gb + i).mul(FloatVector.fromArray(S, xa, xb + i)).mul(rs)
                                .add(FloatVector.fromArray(S, dw, i)).intoArray(dw, i);
                    }
                    for (; i < d; i++) dw[i] += ga[gb + i] * xa[xb + i] * rs;
                }
                if (wantX) {
                    // c = mean(g∘w∘x̂) = r · Σ g∘w∘x / d
                    int i = 0;
                    FloatVector acc = FloatVector.zero(S);
                    for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                        acc = FloatVector.fromArray(S, ga, gb + i).mul(FloatVector.fromArray(S, w, i)).fma(FloatVector.fromArray(S, xa, xb + i), acc);
                    }
                    float s = VectorMath.sum(acc);
                    for (; i < d; i++) s += ga[gb + i] * w[i] * xa[xb + i];
                    float c = rs * s / d;
                    float k = rs * rs * c; // r · x̂ · c = r² · c · x
                    i = 0;
                    for (int bound = S.loopBound(d); i < bound; i += S.length()) {
                        FloatVector gw = FloatVector.fromArray(S, ga, gb + i).mul(FloatVector.fromArray(S, w, i));
                        gw.mul(rs).sub(FloatVector.fromArray(S, xa, xb + i).mul(k)).intoArray(dxa, ob + i);
                    }
                    for (; i < d; i++) dxa[ob + i] = rs * ga[gb + i] * w[i] - k * xa[xb + i];
                }
            }
            if (wantW) partial.put(r0, dw);
        });
        Tensor dw = null;
        if (wantW) {
            dw = Tensor.zeros(d);
            float[] o = Pointwise.array(dw);
            for (float[] p : partial.values()) for (int i = 0; i < d; i++) o[i] += p[i];
        }
        return new Tensor[] {dx, dw};
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        }
        float s = VectorMath.sum(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

}
