package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Fused cross-entropy over a (large) vocabulary: loss = Σ_{rows with target ≠ ignoreIndex}
 * (lse_i − x_i[target_i]) / normaliser, with lse_i = log Σ_j e^{x_ij}. The normaliser is the
 * caller's (the number of target tokens of the whole accumulation window, say), so summed losses
 * of micro-batches add up to the window's mean. Logits (..., V), targets (...) I32.
 *
 * <p>Gradient: dx_ij = (softmax(x_i)_j − [j = target_i]) · upstream / normaliser, zero for ignored
 * rows. Two strategies, both working row by row in parallel chunks so N×V logits are never held
 * twice at once before the backward:
 * <ul>
 * <li>{@link #apply}: the forward saves only lse (N floats); the backward recomputes softmax from
 *     the logits (one more exp per logit) into a fresh gradient tensor.
 * <li>{@link #applyConsumingLogits}: the forward writes the gradient into the logits buffer in the
 *     same pass that computes the loss, so no second N×V buffer ever exists. The logits tensor is
 *     destroyed: use it only when nothing reads the logits after the loss (the usual training step).
 * </ul>
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static Variable apply(Variable logits, Tensor targets, int ignoreIndex, float normaliser) {
        return fused(logits, targets, ignoreIndex, normaliser, false);
    }

    public static Variable applyConsumingLogits(Variable logits, Tensor targets, int ignoreIndex, float normaliser) {
        return fused(logits, targets, ignoreIndex, normaliser, true);
    }

    private static Variable fused(Variable logits, Tensor targets, int ignoreIndex, float normaliser, boolean inPlace) {
        Tensor lv = logits.value();
        if (!lv.dtype().isFloating() || targets.dtype() != DType.I32 || lv.rank() < 1
                || !Arrays.equals(Arrays.copyOf(lv.shape(), lv.rank() - 1), targets.shape())) {
            throw new IllegalArgumentException("cross_entropy: need floating logits (..., V) and I32 targets (...), got "
                    + lv + " and " + targets);
        }
        if (!(normaliser > 0)) throw new IllegalArgumentException("cross_entropy: normaliser must be positive, got " + normaliser);
        int v = lv.size(-1);
        int n = (int) targets.numel();
        int[] t = targets.toIntArray();
        for (int i = 0; i < n; i++) {
            if (t[i] != ignoreIndex && (t[i] < 0 || t[i] >= v)) {
                throw new IllegalArgumentException("cross_entropy: target " + t[i] + " of row " + i + " outside the vocabulary [0, " + v
                        + ") (ignore index " + ignoreIndex + ")");
            }
        }
        boolean record = Graph.recording(logits);
        Tensor x = Pointwise.dense(lv).reshape(n, v);
        float[] xa = Pointwise.array(x);
        int xo = (int) x.offset();
        float[] lse = new float[n];
        float[] rowLoss = new float[n];
        float invNorm = 1f / normaliser;
        boolean writeGrad = record && inPlace;
        Parallel.forRange(n, Math.max(1, 8192 / Math.max(v, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = xo + r * v;
                float l = logSumExp(xa, base, v);
                lse[r] = l;
                boolean ignored = t[r] == ignoreIndex;
                rowLoss[r] = ignored ? 0f : l - xa[base + t[r]];
                if (writeGrad) writeRowGrad(xa, base, v, l, ignored ? -1 : t[r], ignored ? 0f : invNorm, xa, base);
            }
        });
        double total = 0;
        for (int i = 0; i < n; i++) total += rowLoss[i];
        Tensor loss = Tensor.scalar((float) (total / normaliser));
        if (!record) return Variable.constant(loss);
        int[] shape = lv.shape();
        if (inPlace) {
            return Graph.record("cross_entropy_inplace", loss, g -> {
                float u = g.item();
                if (u != 1f) {
                    Parallel.forRange(n, Math.max(1, 8192 / Math.max(v, 1)), (r0, r1) -> {
                        for (int i = xo + r0 * v, end = xo + r1 * v; i < end; i++) xa[i] *= u;
                    });
                }
                return new Tensor[] {x.view(shape)};
            }, logits);
        }
        return Graph.record("cross_entropy", loss, g -> {
            float scale = g.item() * invNorm;
            Tensor dx = Tensor.zeros(n, v);
            float[] d = Pointwise.array(dx);
            Parallel.forRange(n, Math.max(1, 8192 / Math.max(v, 1)), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    boolean ignored = t[r] == ignoreIndex;
                    writeRowGrad(xa, xo + r * v, v, lse[r], ignored ? -1 : t[r], ignored ? 0f : scale, d, r * v);
                }
            });
            return new Tensor[] {dx.view(shape)};
        }, logits);
    }

    /** log Σ_j e^{x_j} over x[base, base+v), stable (max subtracted). */
    static float logSumExp(float[] x, int base, int v) {
        int i = 0;
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int bound = S.loopBound(v); i < bound; i += S.length()) mv = mv.max(FloatVector.fromArray(S, x, base + i));
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < v; i++) m = Math.max(m, x[base + i]);
        if (m == Float.NEGATIVE_INFINITY) return m;
        i = 0;
        FloatVector sv = FloatVector.zero(S);
        for (int bound = S.loopBound(v); i < bound; i += S.length()) {
            sv = sv.add(VectorMath.exp(FloatVector.fromArray(S, x, base + i).sub(m)));
        }
        double s = VectorMath.sum(sv);
        for (; i < v; i++) s += Math.exp(x[base + i] - m);
        return (float) (m + Math.log(s));
    }

    /** out[ob + j] = (e^{x_j − lse} − [j = target]) · scale for one row (all zeros when scale is 0); out may be x. */
    static void writeRowGrad(float[] x, int base, int v, float lse, int target, float scale, float[] out, int ob) {
        if (scale == 0f) {
            Arrays.fill(out, ob, ob + v, 0f);
            return;
        }
        float xt = target >= 0 ? x[base + target] : 0f;
        int i = 0;
        for (int bound = S.loopBound(v); i < bound; i += S.length()) {
            VectorMath.exp(FloatVector.fromArray(S, x, base + i).sub(lse)).mul(scale).intoArray(out, ob + i);
        }
        for (; i < v; i++) out[ob + i] = (float) Math.exp(x[base + i] - lse) * scale;
        if (target >= 0) out[ob + target] = ((float) Math.exp(xt - lse) - 1f) * scale;
    }
}
