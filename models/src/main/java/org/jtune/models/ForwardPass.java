package org.jtune.models;

import org.jtune.models.lora.AdapterRouting;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Rng;

/**
 * Options of one full-sequence forward pass ({@link CausalLM#hidden}): training, validation loss,
 * scoring.
 *
 * @param mask          causal mask, sliding window, packed-sequence segments
 * @param dropout       generator of LoRA dropout masks (training), or null for none
 * @param checkpointing recompute each layer in the backward pass instead of keeping its activations
 * @param adapters      which LoRA adapters apply to which rows, or null for the model's active adapters
 */
public record ForwardPass(AttentionMask mask, Rng dropout, boolean checkpointing, AdapterRouting adapters) {
    /** A pass without dropout or checkpointing through the active adapters. */
    public static ForwardPass of(AttentionMask mask) {
        return new ForwardPass(mask, null, false, null);
    }

    /** A training pass through the active adapters. */
    public static ForwardPass training(AttentionMask mask, Rng dropout, boolean checkpointing) {
        return new ForwardPass(mask, dropout, checkpointing, null);
    }
}
