package org.jtune.autograd;

import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Causal grouped-query attention for training: a forward that also returns the per-row logsumexp,
 * and the backward that recomputes the softmax from q, k and that logsumexp (FlashAttention-2,
 * Dao 2023), one query row at a time, so no score matrix is ever materialised:
 * <pre>
 *   s_j = scale·q·k_j,  p_j = exp(s_j − lse),  o = Σ_j p_j v_j                       (forward)
 *   Δ = dO·O,  dp_j = dO·v_j,  ds_j = p_j (dp_j − Δ)
 *   dq = scale Σ_j ds_j k_j,  dk_j += scale ds_j q,  dv_j += p_j dO                  (backward)
 * </pre>
 * Layouts: q, o (B, T, Hq, D), k, v (B, S, Hkv, D), all dense F32; query head h reads kv head
 * h / (Hq/Hkv), and the backward sums the dk, dv of the query heads sharing a kv head. Visibility
 * follows {@link AttentionMask}: causal, sliding window, query offset, segment ids. A query that
 * sees no key gets o = 0 and lse = −∞, and passes no gradient. The forward splits work by query
 * rows, the backward by (batch, kv head), so every dk, dv row is written by one thread.
 */
final class AttentionKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AttentionKernel() {}

    /** Shapes and masking of one call. */
    record Dims(int b, int t, int s, int hq, int hkv, int d, float scale, AttentionMask mask, int[] segments) {
        int group() {
            return hq / hkv;
        }

        int lo(int qPos) {
            return mask.window() > 0 ? Math.max(0, qPos - mask.window() + 1) : 0;
        }

        int hi(int qPos) {
            return mask.causal() ? Math.min(s - 1, qPos) : s - 1;
        }

        boolean visible(int b, int qPos, int j) {
            return segments == null || segments[b * s + j] == segments[b * s + qPos];
        }
    }

    /** o ← attention(q, k, v); returns lse (B·Hq·T, row (b, h, t) at (b·Hq + h)·T + t). */
    static float[] forward(Dims n, Tensor q, Tensor k, Tensor v, Tensor o) {
        float[] qa = Pointwise.array(q), ka = Pointwise.array(k), va = Pointwise.array(v), oa = Pointwise.array(o);
        int qo = (int) q.offset(), ko = (int) k.offset(), vo = (int) v.offset();
        int rows = n.b() * n.hq() * n.t();
        float[] lse = new float[rows];
        int d = n.d();
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, n.s() * d)), (r0, r1) -> {
            float[] p = new float[n.s()];
            float[] acc = new float[d];
            for (int r = r0; r < r1; r++) {
                int t = r % n.t(), h = (r / n.t()) % n.hq(), b = r / (n.t() * n.hq());
                int g = h / n.group();
                int qPos = n.mask().queryOffset() + t;
                int qb = qo + ((b * n.t() + t) * n.hq() + h) * d;
                int ob = ((b * n.t() + t) * n.hq() + h) * d;
                int lo = n.lo(qPos), hi = n.hi(qPos);
                float m = Float.NEGATIVE_INFINITY;
                for (int j = lo; j <= hi; j++) {
                    if (!n.visible(b, qPos, j)) {
                        p[j] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    p[j] = n.scale() * dot(qa, qb, ka, ko + ((b * n.s() + j) * n.hkv() + g) * d, d);
                    m = Math.max(m, p[j]);
                }
                java.util.Arrays.fill(acc, 0f);
                if (m == Float.NEGATIVE_INFINITY) {
                    lse[r] = m;
                    System.arraycopy(acc, 0, oa, ob, d);
                    continue;
                }
                double sum = 0;
                for (int j = lo; j <= hi; j++) {
                    if (p[j] == Float.NEGATIVE_INFINITY) continue;
                    float e = (float) Math.exp(p[j] - m);
                    sum += e;
                    axpy(e, va, vo + ((b * n.s() + j) * n.hkv() + g) * d, acc, 0, d);
                }
                float inv = (float) (1.0 / sum);
                for (int i = 0; i < d; i++) oa[ob + i] = acc[i] * inv;
                lse[r] = (float) (m + Math.log(sum));
            }
        });
        return lse;
    }

    /** dq, dk, dv (zeroed, dense, the shapes of q, k, v) ← the gradients for upstream dO. */
    static void backward(Dims n, Tensor q, Tensor k, Tensor v, Tensor o, float[] lse, Tensor dO,
                         Tensor dq, Tensor dk, Tensor dv) {
        float[] qa = Pointwise.array(q), ka = Pointwise.array(k), va = Pointwise.array(v), oa = Pointwise.array(o);
        float[] ga = Pointwise.array(dO), dqa = Pointwise.array(dq), dka = Pointwise.array(dk), dva = Pointwise.array(dv);
        int qo = (int) q.offset(), ko = (int) k.offset(), vo = (int) v.offset(), go = (int) dO.offset();
        int d = n.d();
        float scale = n.scale();
        Parallel.forRange(n.b() * n.hkv(), 1, (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int b = task / n.hkv(), g = task % n.hkv();
                for (int h = g * n.group(); h < (g + 1) * n.group(); h++) {
                    for (int t = 0; t < n.t(); t++) {
                        float l = lse[(b * n.hq() + h) * n.t() + t];
                        if (l == Float.NEGATIVE_INFINITY) continue;
                        int qPos = n.mask().queryOffset() + t;
                        int row = ((b * n.t() + t) * n.hq() + h) * d;
                        int qb = qo + row, gb = go + row;
                        float delta = dot(ga, gb, oa, row, d);
                        for (int j = n.lo(qPos), hi = n.hi(qPos); j <= hi; j++) {
                            if (!n.visible(b, qPos, j)) continue;
                            int kvRow = ((b * n.s() + j) * n.hkv() + g) * d;
                            float p = (float) Math.exp(scale * dot(qa, qb, ka, ko + kvRow, d) - l);
                            float ds = p * (dot(ga, gb, va, vo + kvRow, d) - delta);
                            axpy(scale * ds, ka, ko + kvRow, dqa, row, d);
                            axpy(scale * ds, qa, qb, dka, kvRow, d);
                            axpy(p, ga, gb, dva, kvRow, d);
                        }
                    }
                }
            }
        });
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0f;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** y[yo..] += alpha · x[xo..] over n elements. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector a = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).fma(a, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }
}
