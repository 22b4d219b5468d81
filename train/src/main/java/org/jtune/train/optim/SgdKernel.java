package org.jtune.train.optim;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Parallel;

/**
 * The fused SGD update of one tensor, as torch.optim.SGD (weight decay coupled: added to the gradient):
 * <pre>
 *   d ← g + wd·p
 *   b ← d                      on the first step, else  b ← μ·b + (1 − dampening)·d
 *   d ← d + μ·b  (Nesterov)    or  d ← b
 *   p ← p − lr·d
 * </pre>
 * Without momentum (μ = 0) there is no buffer and d is used directly. F32 without fused
 * multiply-adds, so {@link #updateScalar} is bit-identical to the vector path.
 */
final class SgdKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int GRAIN = 1 << 15;

    private SgdKernel() {}

    record Coefficients(float lr, float weightDecay, float momentum, float dampeningComplement, boolean nesterov, boolean first) {}

    /** buf is null when momentum is 0. */
    static void update(float[] p, int po, float[] g, int go, float[] buf, int n, Coefficients c) {
        Parallel.forRange(n, GRAIN, (from, to) -> updateRange(p, po, g, go, buf, from, to, c));
    }

    static void updateRange(float[] p, int po, float[] g, int go, float[] buf, int from, int to, Coefficients c) {
        float lr = c.lr(), wd = c.weightDecay(), mu = c.momentum(), omd = c.dampeningComplement();
        boolean useBuf = buf != null, first = c.first(), nesterov = c.nesterov();
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector d = FloatVector.fromArray(S, g, go + i).add(pv.mul(wd));
            if (useBuf) {
                FloatVector b = first ? d : FloatVector.fromArray(S, buf, i).mul(mu).add(d.mul(omd));
                b.intoArray(buf, i);
                d = nesterov ? d.add(b.mul(mu)) : b;
            }
            pv.sub(d.mul(lr)).intoArray(p, po + i);
        }
        updateScalar(p, po, g, go, buf, i, to, c);
    }

    static void updateScalar(float[] p, int po, float[] g, int go, float[] buf, int from, int to, Coefficients c) {
        for (int i = from; i < to; i++) {
            float pi = p[po + i];
            float d = g[go + i] + pi * c.weightDecay();
            if (buf != null) {
                float b = c.first() ? d : buf[i] * c.momentum() + d * c.dampeningComplement();
                buf[i] = b;
                d = c.nesterov() ? d + b * c.momentum() : b;
            }
            p[po + i] = pi - d * c.lr();
        }
    }
}
