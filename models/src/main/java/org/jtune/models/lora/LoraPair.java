package org.jtune.models.lora;

import org.jtune.autograd.Variable;

/**
 * The LoRA matrices of one adapter on one (out, in) projection: ΔW = scale · B·A with A (r, in) and
 * B (out, r) (Hu et al. 2021). scale = alpha / r, or alpha / √r with rsLoRA (Kalajdzievski 2023).
 * Dropout applies to the adapter's input only, as PEFT does. With DoRA ({@code magnitude} not null, (out)) each output
 * row of the adapted projection is rescaled to its magnitude ({@link DoraScale}).
 */
public record LoraPair(Variable a, Variable b, float scale, float dropout, Variable magnitude) {
    public LoraPair {
        if (a.rank() != 2 || b.rank() != 2 || a.size(0) != b.size(1)) {
            throw new IllegalArgumentException("LoRA pair: A must be (r, in) and B (out, r), got " + a.value() + " and " + b.value());
        }
        if (magnitude != null && (magnitude.rank() != 1 || magnitude.size(0) != b.size(0))) {
            throw new IllegalArgumentException("DoRA magnitude must be (" + b.size(0) + "), one per output row, got " + magnitude.value());
        }
    }

    /** A plain LoRA pair. */
    public LoraPair(Variable a, Variable b, float scale, float dropout) {
        this(a, b, scale, dropout, null);
    }

    public int rank() {
        return a.size(0);
    }
}
