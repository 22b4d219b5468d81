package org.jtune.tensor.cpu;

import java.util.Arrays;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Scaled-dot-product attention, the one forward kernel of inference and training, one (batch, query
 * position, query head) row at a time:
 * the visible keys of the row are those the mask allows (causal: key ≤ query position; window w:
 * query − key &lt; w; segments: same segment id; query position = queryOffset + t), their scores
 * s_j = scale · q·k_j go into one scratch row, p = softmax(s) (stable: exp(s − max) / Σ), and
 * out = Σ p_j v_j. Query head h reads kv head h / (Hq / Hkv) (grouped-query attention). A row with
 * no visible key is zero. Only one row of scores per thread exists at a time. k and v are read as
 * F32 with unit stride along D, converted once per call when they are not. For training, the row's
 * logsumexp lse = max + log Σ exp(s − max) is kept (−∞ for a row with no visible key), from which
 * {@link AttentionBackward} recomputes the probabilities.
 */
final class Attention {
    private Attention() {}

    static void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        int batch = q.size(0), tq = q.size(1), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (out.numel() == 0) return;
        int group = hq / hkv;
        Tensor kc = unitLastDim(k), vc = unitLastDim(v);
        float[] ka = kc.storage().floatArray(), va = vc.storage().floatArray();
        long kOff = kc.offset(), ks0 = kc.stride(0), ks1 = kc.stride(1), ks2 = kc.stride(2);
        long vOff = vc.offset(), vs0 = vc.stride(0), vs1 = vc.stride(1), vs2 = vc.stride(2);
        int[] seg = segments(mask.segments(), batch, s);
        boolean causal = mask.causal();
        int window = mask.window(), queryOffset = mask.queryOffset();
        Rows qr = Rows.lastDim(q);
        Rows o = Rows.lastDim(out);
        float[] la = lse == null ? null : Elementwise.arr(lse);
        int lo0 = lse == null ? 0 : (int) lse.offset();
        int rows = batch * tq * hq;
        Parallel.forRange(rows, Rows.grain(2L * s * d), (r0, r1) -> {
            float[] qbuf = qr.direct() ? null : new float[d];
            float[] acc = new float[d];
            float[] scores = new float[s];
            int[] keys = new int[s];
            for (int r = r0; r < r1; r++) {
                int b = r / (tq * hq), t = (r / hq) % tq, h = r % hq, kvh = h / group;
                int qPos = queryOffset + t;
                int lo = window > 0 ? Math.max(0, qPos - window + 1) : 0;
                int hi = causal ? Math.min(s - 1, qPos) : s - 1;
                float[] qa = qr.arrayOf(r, qbuf);
                int qBase = qr.baseOf(r, qbuf);
                long kRow = kOff + b * ks0 + kvh * ks2, vRow = vOff + b * vs0 + vs2 * kvh;
                int n = 0;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = lo; j <= hi; j++) {
                    if (seg != null && seg[b * s + j] != seg[b * s + qPos]) continue;
                    float sc = scale * RowKernels.dot(qa, qBase, ka, (int) (kRow + j * ks1), d);
                    keys[n] = j;
                    scores[n++] = sc;
                    max = Math.max(max, sc);
                }
                Arrays.fill(acc, 0f);
                float rowLse = Float.NEGATIVE_INFINITY;
                if (n > 0) {
                    float sum = RowKernels.expShiftedSum(scores, 0, n, max, scores, 0);
                    for (int i = 0; i < n; i++) RowKernels.axpy(scores[i], va, (int) (vRow + keys[i] * vs1), acc, 0, d);
                    RowKernels.scale(acc, 0, d, 1f / sum, acc, 0);
                    rowLse = (float) (max + Math.log(sum));
                }
                if (la != null) la[lo0 + r] = rowLse;
                if (o.direct()) System.arraycopy(acc, 0, o.array(), (int) o.offset(r), d);
                else o.store(r, acc);
            }
        });
    }

    /** t itself when it is heap F32 with unit stride along the last dim, else a contiguous F32 copy. */
    static Tensor unitLastDim(Tensor t) {
        Tensor f = Elementwise.f32(t);
        return f.stride(-1) == 1 || f.size(-1) <= 1 ? f : f.contiguous();
    }

    static int[] segments(Tensor seg, int batch, int s) {
        if (seg == null) return null;
        int[] a = new int[batch * s];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < s; j++) a[b * s + j] = seg.storage().getInt(DType.I32, seg.offset() + b * seg.stride(0) + j * seg.stride(1));
        }
        return a;
    }
}
