package org.jtune.models.lora;

import org.jtune.autograd.Variable;

/**
 * The LoRA matrices of one adapter on one (out, in) projection: ΔW = scale · B·A with A (r, in) and
 * B (out, r) (Hu et al. 2021). scale = alpha / r, or alpha / √r with rsLoRA (Kalajdzievski 2023).
 * Dropout applies to the adapter's input only, as PEFT does.
 */
public record LoraPair(Variable a, Variable b, float scale, float dropout) {
    public LoraPair {
        if (a.rank() != 2 || b.rank() != 2 || a.size(0) != b.size(1)) {
            throw new IllegalArgumentException("LoRA pair: A must be (r, in) and B (out, r), got " + a.value() + " and " + b.value());
        }
    }

    public int rank() {
        return a.size(0);
    }
}
