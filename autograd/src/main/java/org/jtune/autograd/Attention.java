package org.jtune.autograd;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable scaled-dot-product attention with grouped KV heads, as one fused op:
 * q (B, T, Hq, D), k and v (B, S, Hkv, D) → (B, T, Hq, D), masked by an {@link AttentionMask}
 * (causal, sliding window, query offset, packed-sequence segments). Under no-grad (inference) it
 * is the tensor module's attention kernel alone. When recording, {@link AttentionKernel} computes
 * the output and the per-row logsumexp; q, k, v, the output and the logsumexp are saved, and the
 * backward recomputes the probabilities row by row (no T×S matrix is kept).
 */
public final class Attention {
    private Attention() {}

    /** Attention with scale 1/√D. */
    public static Variable apply(Variable q, Variable k, Variable v, AttentionMask mask) {
        return apply(q, k, v, mask, 0f);
    }

    /** Attention with the given scale (1/√D when ≤ 0). */
    public static Variable apply(Variable q, Variable k, Variable v, AttentionMask mask, float scale) {
        Tensor qv = q.value(), kv = k.value(), vv = v.value();
        if (!Graph.recording(q, k, v)) return Variable.constant(Ops.attention(qv, kv, vv, mask, scale));
        AttentionKernel.Dims n = dims(qv, kv, vv, mask, scale);
        Tensor qd = Pointwise.dense(qv), kd = Pointwise.dense(kv), vd = Pointwise.dense(vv);
        Tensor out = Tensor.zeros(qv.shape());
        float[] lse = AttentionKernel.forward(n, qd, kd, vd, out);
        boolean gq = q.requiresGrad(), gk = k.requiresGrad(), gv = v.requiresGrad();
        return Graph.record("attention", out, g -> {
            Tensor dq = Tensor.zeros(qd.shape()), dk = Tensor.zeros(kd.shape()), dv = Tensor.zeros(vd.shape());
            AttentionKernel.backward(n, qd, kd, vd, out, lse, Pointwise.dense(g), dq, dk, dv);
            return new Tensor[] {gq ? dq : null, gk ? dk : null, gv ? dv : null};
        }, q, k, v);
    }

    private static AttentionKernel.Dims dims(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException("attention: q, k, v must be (B, T, H, D), got " + q + ", " + k + ", " + v);
        }
        int b = q.size(0), t = q.size(1), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (k.size(0) != b || v.size(0) != b || v.size(1) != s || v.size(2) != hkv || k.size(3) != d || v.size(3) != d
                || hkv == 0 || hq % hkv != 0) {
            throw new IllegalArgumentException("attention: incompatible q, k, v (query heads must be a multiple of kv heads): "
                    + q + ", " + k + ", " + v);
        }
        Tensor segs = mask.segments();
        if (mask.queryOffset() < 0 || (mask.causal() || segs != null) && mask.queryOffset() + t > s) {
            throw new IllegalArgumentException("attention: queries at " + mask.queryOffset() + ".." + (mask.queryOffset() + t)
                    + " beyond the " + s + " keys");
        }
        int[] segments = null;
        if (segs != null) {
            if (segs.dtype() != DType.I32 || segs.rank() != 2 || segs.size(0) != b || segs.size(1) != s) {
                throw new IllegalArgumentException("attention: segments must be I32 (B, S) = (" + b + ", " + s + "), got " + segs);
            }
            segments = segs.toIntArray();
        }
        return new AttentionKernel.Dims(b, t, s, hq, hkv, d, scale > 0 ? scale : (float) (1.0 / Math.sqrt(d)), mask, segments);
    }
}
