package org.jtune.models.llama;

import org.jtune.autograd.Variable;

/**
 * A LoRA pair for one (out, in) projection: ΔW = scale · B·A with A (r, in), B (out, r)
 * (Hu et al. 2021). scale = alpha / r, or alpha / sqrt(r) with rsLoRA (Kalajdzievski 2023).
 * Dropout applies to the adapter's input only, as PEFT does.
 */
public record LoraAdapter(Variable a, Variable b, float scale, float dropout) {
    public int rank() {
        return a.value().size(0);
    }
}
