package org.jtune.models;

import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Variable;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Options of one full-sequence forward pass ({@link CausalLM#hidden}): training, validation loss,
 * scoring.
 *
 * @param mask          causal mask, sliding window, packed-sequence segments
 * @param dropout       generator of LoRA dropout masks (training), or null for none
 * @param checkpointing recompute each layer in the backward pass instead of keeping its activations
 * @param adapters      which LoRA adapters apply to which rows, or null for the model's active adapters
 * @param neftuneAlpha  NEFTune's noise on the token embeddings (training; 0: none), drawn from {@code dropout}
 */
public record ForwardPass(AttentionMask mask, Rng dropout, boolean checkpointing, AdapterRouting adapters, float neftuneAlpha) {
    public ForwardPass {
        if (!(neftuneAlpha >= 0) || Float.isInfinite(neftuneAlpha)) throw new IllegalArgumentException("NEFTune alpha must be >= 0, got " + neftuneAlpha);
        if (neftuneAlpha > 0 && dropout == null) throw new IllegalArgumentException("NEFTune noise needs a generator (the pass's dropout)");
    }

    public ForwardPass(AttentionMask mask, Rng dropout, boolean checkpointing, AdapterRouting adapters) {
        this(mask, dropout, checkpointing, adapters, 0);
    }

    /** A pass without dropout or checkpointing through the active adapters. */
    public static ForwardPass of(AttentionMask mask) {
        return new ForwardPass(mask, null, false, null);
    }

    /** A training pass through the active adapters. */
    public static ForwardPass training(AttentionMask mask, Rng dropout, boolean checkpointing) {
        return new ForwardPass(mask, dropout, checkpointing, null);
    }

    /** The same pass with NEFTune's noise of {@code alpha} on the embeddings (0: none). */
    public ForwardPass withNeftune(float alpha) {
        return new ForwardPass(mask, dropout, checkpointing, adapters, alpha);
    }

    /**
     * The token embeddings (B, T, dim) as the decoder layers see them: as they are, or with NEFTune's noise (Jain et al.,
     * "NEFTune: Noisy Embeddings Improve Instruction Finetuning", 2023, as transformers' Trainer adds it): uniform in
     * ±alpha/√(T·dim), a constant, so the gradient reaches the embeddings unchanged.
     */
    public Variable embedded(Variable embeddings) {
        if (neftuneAlpha == 0) return embeddings;
        float magnitude = (float) (neftuneAlpha / Math.sqrt((double) embeddings.size(1) * embeddings.size(2)));
        Tensor noise = Tensor.uniform(dropout, -magnitude, magnitude, embeddings.shape()).to(embeddings.value().device());
        return Arithmetic.add(embeddings, Variable.constant(noise));
    }
}
