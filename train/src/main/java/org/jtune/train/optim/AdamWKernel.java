package org.jtune.train.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Parallel;

/**
 * The fused AdamW update of one tensor: one pass that reads p, g, m, v and writes p, m, v
 * (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization"; the formulas of torch.optim.AdamW):
 * <pre>
 *   p ← p·(1 − lr·wd)
 *   m ← m + (1 − β1)(g − m)
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 * The per-step scalars are computed in double and rounded to float once ({@link Coefficients}); the
 * arithmetic is F32 without fused multiply-adds, so the vector kernel and the scalar reference
 * {@link #updateScalar} give identical bits, and the split into parallel chunks cannot change a result.
 */
final class AdamWKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements per parallel chunk: the update streams 28 bytes per element, so small tensors stay on one thread. */
    static final int GRAIN = 1 << 15;

    private AdamWKernel() {}

    /** The float scalars of one step t ≥ 1. */
    record Coefficients(float decay, float beta1Complement, float beta2, float beta2Complement, float bias2Sqrt, float eps,
                        float stepSize) {
        static Coefficients of(double lr, double weightDecay, double beta1, double beta2, double eps, long t) {
            double bias1 = 1 - Math.pow(beta1, t);
            double bias2 = 1 - Math.pow(beta2, t);
            return new Coefficients((float) (1 - lr * weightDecay), (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                    (float) Math.sqrt(bias2), (float) eps, (float) (lr / bias1));
        }
    }

    /** Updates n elements of p (from po), g (from go), m and v (from 0), in parallel chunks. */
    static void update(float[] p, int po, float[] g, int go, float[] m, float[] v, int n, Coefficients c) {
        Parallel.forRange(n, GRAIN, (from, to) -> updateRange(p, po, g, go, m, v, from, to, c));
    }

    static void updateRange(float[] p, int po, float[] g, int go, float[] m, float[] v, int from, int to, Coefficients c) {
        float decay = c.decay(), omb1 = c.beta1Complement(), b2 = c.beta2(), omb2 = c.beta2Complement();
        float bias2Sqrt = c.bias2Sqrt(), eps = c.eps(), stepSize = c.stepSize();
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            FloatVector mv = FloatVector.fromArray(S, m, i);
            FloatVector vv = FloatVector.fromArray(S, v, i);
            mv = mv.add(gv.sub(mv).mul(omb1));
            vv = vv.mul(b2).add(gv.mul(omb2).mul(gv));
            FloatVector denom = vv.sqrt().div(bias2Sqrt).add(eps);
            pv = pv.mul(decay).sub(mv.div(denom).mul(stepSize));
            pv.intoArray(p, po + i);
            mv.intoArray(m, i);
            vv.intoArray(v, i);
        }
        updateScalar(p, po, g, go, m, v, i, to, c);
    }

    /** The scalar reference: the same float operations in the same order, one element at a time. */
    static void updateScalar(float[] p, int po, float[] g, int go, float[] m, float[] v, int from, int to, Coefficients c) {
        for (int i = from; i < to; i++) {
            float gi = g[go + i];
            float mi = m[i] + (gi - m[i]) * c.beta1Complement();
            float vi = v[i] * c.beta2() + gi * c.beta2Complement() * gi;
            float denom = (float) Math.sqrt(vi) / c.bias2Sqrt() + c.eps();
            p[po + i] = p[po + i] * c.decay() - mi / denom * c.stepSize();
            m[i] = mi;
            v[i] = vi;
        }
    }
}
