package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Tensor;

/**
 * The fused optimizer updates: one pass per parameter that reads the parameter, its gradient and
 * state and writes the parameter and state in place ({@link AdamWStep}, {@link SgdStep} hold the
 * formulas). F32 without fused multiply-adds, the vector body and the scalar tail doing the same
 * operations in the same order as the steps' scalar {@code apply}, so results are bit-identical to
 * it and do not depend on how the work is split. Operands are contiguous heap F32.
 */
final class OptimizerUpdates {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements per parallel chunk: the update streams 28 bytes per element, so small tensors stay on one thread. */
    static final int GRAIN = 1 << 15;

    private OptimizerUpdates() {}

    static void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep c) {
        float[] p = Elementwise.arr(param), ma = Elementwise.arr(m), va = Elementwise.arr(v);
        Tensor gd = Elementwise.dense(grad);
        int po = (int) param.offset(), go = (int) gd.offset(), mo = (int) m.offset(), vo = (int) v.offset();
        float[] ga = Elementwise.arr(gd);
        Parallel.forRange((int) param.numel(), GRAIN, (from, to) -> adamwRange(p, po, ga, go, ma, mo, va, vo, from, to, c));
    }

    private static void adamwRange(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int from, int to, AdamWStep c) {
        float decay = c.decay(), omb1 = c.beta1Complement(), b2 = c.beta2(), omb2 = c.beta2Complement();
        float bias2Sqrt = c.bias2Sqrt(), eps = c.eps(), stepSize = c.stepSize();
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            FloatVector mv = FloatVector.fromArray(S, m, mo + i);
            FloatVector vv = FloatVector.fromArray(S, v, vo + i);
            mv = mv.add(gv.sub(mv).mul(omb1));
            vv = vv.mul(b2).add(gv.mul(omb2).mul(gv));
            FloatVector denom = vv.sqrt().div(bias2Sqrt).add(eps);
            pv = pv.mul(decay).sub(mv.div(denom).mul(stepSize));
            pv.intoArray(p, po + i);
            mv.intoArray(m, mo + i);
            vv.intoArray(v, vo + i);
        }
        for (; i < to; i++) {
            float gi = g[go + i];
            float mi = m[mo + i] + (gi - m[mo + i]) * omb1;
            float vi = v[vo + i] * b2 + gi * omb2 * gi;
            float denom = (float) Math.sqrt(vi) / bias2Sqrt + eps;
            p[po + i] = p[po + i] * decay - mi / denom * stepSize;
            m[mo + i] = mi;
            v[vo + i] = vi;
        }
    }

    /** buf is null without momentum. */
    static void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep c) {
        float[] p = Elementwise.arr(param), b = buf == null ? null : Elementwise.arr(buf);
        Tensor gd = Elementwise.dense(grad);
        float[] g = Elementwise.arr(gd);
        int po = (int) param.offset(), go = (int) gd.offset(), bo = buf == null ? 0 : (int) buf.offset();
        Parallel.forRange((int) param.numel(), GRAIN, (from, to) -> sgdRange(p, po, g, go, b, bo, from, to, c));
    }

    private static void sgdRange(float[] p, int po, float[] g, int go, float[] buf, int bo, int from, int to, SgdStep c) {
        float lr = c.lr(), wd = c.weightDecay(), mu = c.momentum(), omd = c.dampeningComplement();
        boolean useBuf = buf != null, first = c.first(), nesterov = c.nesterov();
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector d = FloatVector.fromArray(S, g, go + i).add(pv.mul(wd));
            if (useBuf) {
                FloatVector b = first ? d : FloatVector.fromArray(S, buf, bo + i).mul(mu).add(d.mul(omd));
                b.intoArray(buf, bo + i);
                d = nesterov ? d.add(b.mul(mu)) : b;
            }
            pv.sub(d.mul(lr)).intoArray(p, po + i);
        }
        for (; i < to; i++) {
            float pi = p[po + i];
            float d = g[go + i] + pi * wd;
            if (useBuf) {
                float b = first ? d : buf[bo + i] * mu + d * omd;
                buf[bo + i] = b;
                d = nesterov ? d + b * mu : b;
            }
            p[po + i] = pi - d * lr;
        }
    }
}
