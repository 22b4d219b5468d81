package org.jtune.tensor.cpu;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * The backward of {@link Attention} (FlashAttention-2, Dao 2023): the probabilities are recomputed
 * one query row at a time from q, k and the row's logsumexp, so no score matrix is ever materialised:
 * <pre>
 *   p_j = exp(scale·q·k_j − lse),  Δ = dO·O,  dp_j = dO·v_j,  ds_j = p_j (dp_j − Δ)
 *   dq = scale Σ_j ds_j k_j,  dk_j += scale ds_j q,  dv_j += p_j dO
 * </pre>
 * Query head h reads kv head h / (Hq/Hkv), so dk and dv sum over the query heads of a group. Work is
 * split by (batch, kv head): every dk, dv row is written by one thread, in a fixed order of (query
 * head, query position), so the result does not depend on the thread count. Visibility follows the
 * mask as in the forward; a row with lse = −∞ (no visible key) passes no gradient. Inputs are read as
 * contiguous F32 (copied first when they are not); dq, dk, dv are zeroed contiguous outputs.
 */
final class AttentionBackward {
    private AttentionBackward() {}

    static void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                         Tensor dq, Tensor dk, Tensor dv) {
        int batch = q.size(0), tq = q.size(1), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (q.numel() == 0 || k.numel() == 0) return;
        int group = hq / hkv;
        Tensor qd = Elementwise.dense(q), kd = Elementwise.dense(k), vd = Elementwise.dense(v), od = Elementwise.dense(out);
        Tensor gd = Elementwise.dense(dOut), ld = Elementwise.dense(lse);
        float[] qa = Elementwise.arr(qd), ka = Elementwise.arr(kd), va = Elementwise.arr(vd), oa = Elementwise.arr(od);
        float[] ga = Elementwise.arr(gd), la = Elementwise.arr(ld);
        float[] dqa = Elementwise.arr(dq), dka = Elementwise.arr(dk), dva = Elementwise.arr(dv);
        int qo = (int) qd.offset(), ko = (int) kd.offset(), vo = (int) vd.offset(), oo = (int) od.offset(), go = (int) gd.offset();
        int lo0 = (int) ld.offset(), dqo = (int) dq.offset(), dko = (int) dk.offset(), dvo = (int) dv.offset();
        int[] seg = Attention.segments(mask.segments(), batch, s);
        boolean causal = mask.causal();
        int window = mask.window(), queryOffset = mask.queryOffset();
        Parallel.forRange(batch * hkv, 1, (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int b = task / hkv, g = task % hkv;
                for (int h = g * group; h < (g + 1) * group; h++) {
                    for (int t = 0; t < tq; t++) {
                        int row = ((b * tq + t) * hq + h);
                        float l = la[lo0 + row];
                        if (l == Float.NEGATIVE_INFINITY) continue;
                        int qPos = queryOffset + t;
                        int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                        int hi = causal ? Math.min(s - 1, qPos) : s - 1;
                        int qb = qo + row * d, gb = go + row * d;
                        float delta = RowKernels.dot(ga, gb, oa, oo + row * d, d);
                        for (int j = lo; j <= hi; j++) {
                            if (seg != null && seg[b * s + j] != seg[b * s + qPos]) continue;
                            int kvRow = ((b * s + j) * hkv + g) * d;
                            float p = (float) Math.exp(scale * RowKernels.dot(qa, qb, ka, ko + kvRow, d) - l);
                            float ds = p * (RowKernels.dot(ga, gb, va, vo + kvRow, d) - delta);
                            RowKernels.axpy(scale * ds, ka, ko + kvRow, dqa, dqo + row * d, d);
                            RowKernels.axpy(scale * ds, qa, qb, dka, dko + kvRow, d);
                            RowKernels.axpy(p, ga, gb, dva, dvo + kvRow, d);
                        }
                    }
                }
            }
        });
    }
}
