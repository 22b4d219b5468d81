package org.jtune.autograd;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable scaled-dot-product attention with grouped KV heads, as one fused op:
 * q (B, T, Hq, D), k and v (B, S, Hkv, D) → (B, T, Hq, D), masked by an {@link AttentionMask}
 * (causal, sliding window, query offset, packed-sequence segments). FlashAttention-2 (Dao 2023):
 * <pre>
 *   s_j = scale·q·k_j,  p_j = exp(s_j − lse),  o = Σ_j p_j v_j                       (forward)
 *   Δ = dO·o,  ds_j = p_j (dO·v_j − Δ)
 *   dq = scale Σ_j ds_j k_j,  dk_j += scale ds_j q,  dv_j += p_j dO                  (backward)
 * </pre>
 * The forward is the same kernel as inference; when recording it also returns each query row's
 * logsumexp, and q, k, v, the output and lse are saved: the backward recomputes the probabilities
 * row by row, so no T×S matrix is kept.
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
        Tensor[] ol = Ops.attentionWithLse(qv, kv, vv, mask, scale, true);
        Tensor out = ol[0], lse = ol[1];
        boolean gq = q.requiresGrad(), gk = k.requiresGrad(), gv = v.requiresGrad();
        return Graph.record("attention", out, g -> {
            Tensor[] d = BackwardOps.attention(qv, kv, vv, out, lse, g, mask, scale);
            return new Tensor[] {gq ? d[0] : null, gk ? d[1] : null, gv ? d[2] : null};
        }, q, k, v);
    }
}
