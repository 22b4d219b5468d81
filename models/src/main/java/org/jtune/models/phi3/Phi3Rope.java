package org.jtune.models.phi3;

import java.util.List;
import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Concat;
import org.jtune.autograd.Rope;
import org.jtune.autograd.Variable;
import org.jtune.autograd.Views;
import org.jtune.tensor.Tensor;

/**
 * Phi-3's rotary embedding: RoPE (rotate_half layout) on the first {@code rotaryDim} channels of
 * each head, the rest passed through (partial_rotary_factor), with LongRoPE scaling (Ding et al.
 * 2024) as transformers computes it:
 * <pre>
 *   inv_freq_i = 1 / (ext_i · θ^(2i / rotaryDim)),   ext = short_factor, or long_factor when the sequence is longer
 *                                                     than original_max_position_embeddings
 *   cos, sin are multiplied by the attention factor
 *                = rope_scaling.attention_factor if given, else
 *                  √(1 + ln(s) / ln(original_max_position_embeddings)) with
 *                  s = rope_scaling.factor, or max_position_embeddings / original_max_position_embeddings;
 *                  1 when s ≤ 1
 * </pre>
 * A sequence's length decides the factors for all of its positions, as transformers'
 * longrope_frequency_update does with max(position_ids) + 1 (and Phi3ForCausalLM recomputes the
 * cache when generation crosses the switch). Without rope_scaling it is plain RoPE with factor 1.
 */
final class Phi3Rope {
    private final int rotaryDim;
    private final int switchLength;     // sequences longer than this use the long factors
    private final Tensor shortInvFreq;  // (rotaryDim / 2)
    private final Tensor longInvFreq;   // (rotaryDim / 2), null without LongRoPE
    private final float attentionFactor;

    Phi3Rope(Phi3Config c) {
        rotaryDim = c.rotaryDim();
        Phi3Config.LongRope r = c.longRope();
        if (r == null) {
            switchLength = Integer.MAX_VALUE;
            shortInvFreq = inverseFrequencies(c.ropeTheta(), null);
            longInvFreq = null;
            attentionFactor = 1f;
            return;
        }
        int original = c.originalMaxPositionEmbeddings() != null ? c.originalMaxPositionEmbeddings() : c.maxPositionEmbeddings();
        double factor = r.factor() != null ? r.factor() : (double) c.maxPositionEmbeddings() / original;
        double attention = r.attentionFactor() != null ? r.attentionFactor()
                : factor <= 1 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
        switchLength = original;
        shortInvFreq = inverseFrequencies(c.ropeTheta(), r.shortFactor());
        longInvFreq = inverseFrequencies(c.ropeTheta(), r.longFactor());
        attentionFactor = (float) attention;
    }

    private Tensor inverseFrequencies(double theta, List<Double> ext) {
        float[] f = new float[rotaryDim / 2];
        for (int i = 0; i < f.length; i++) {
            double e = ext == null ? 1.0 : ext.get(i);
            f[i] = (float) (1.0 / (e * Math.pow(theta, (2.0 * i) / rotaryDim)));
        }
        return Tensor.of(f, f.length);
    }

    /** Whether a sequence of {@code length} tokens uses the long factors. */
    boolean isLong(int length) {
        return longInvFreq != null && length > switchLength;
    }

    /** The length after which the long factors apply (Integer.MAX_VALUE without LongRoPE). */
    int switchLength() {
        return switchLength;
    }

    float attentionFactor() {
        return attentionFactor;
    }

    /** Rotates x (B, T, H, headDim) at positions (B, T) with the short or long frequencies. */
    Variable apply(Variable x, Tensor positions, boolean longFactors) {
        Tensor inv = longFactors ? longInvFreq : shortInvFreq;
        int hd = x.size(3);
        Variable rot = rotaryDim == hd ? x : Views.contiguous(x.narrow(3, 0, rotaryDim));
        Variable y = Rope.apply(rot, positions, inv);
        if (attentionFactor != 1f) y = Arithmetic.scale(y, attentionFactor);
        return rotaryDim == hd ? y : Concat.apply(List.of(y, x.narrow(3, rotaryDim, hd - rotaryDim)), 3);
    }
}
