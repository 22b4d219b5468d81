package org.jtune.models.decoder;

import org.jtune.autograd.SwiGlu;
import org.jtune.autograd.Variable;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.Rng;

/**
 * The SwiGLU MLP of Llama, Mistral, Qwen and each expert of a mixture: down(silu(gate(x)) · up(x)), its three projections
 * declared in a family's name table under the family's names.
 *
 * @param gate (hidden, dim)
 * @param up   (hidden, dim)
 * @param down (dim, hidden)
 */
public record GatedMlp(LoraLinear gate, LoraLinear up, LoraLinear down) implements FeedForward {
    /** Declares the three projections (full tensor names) in {@code table}, in the order gate, up, down. */
    public static GatedMlp declare(WeightTable table, String gate, String up, String down, int dim, int hidden) {
        return new GatedMlp(table.projection(gate, hidden, dim), table.projection(up, hidden, dim), table.projection(down, dim, hidden));
    }

    @Override
    public Variable apply(Variable x, AdapterRouting routing, Rng dropout) {
        return down.apply(SwiGlu.apply(gate.apply(x, routing, dropout), up.apply(x, routing, dropout)), routing, dropout);
    }
}
