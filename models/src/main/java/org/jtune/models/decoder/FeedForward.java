package org.jtune.models.decoder;

import org.jtune.autograd.Variable;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.tensor.Rng;

/** The position-wise half of a decoder layer: a dense {@link GatedMlp} or a {@link SparseMoe} of them. */
public interface FeedForward {
    /**
     * The layer's MLP output for normalised hidden states x (…, dim), under the adapters of {@code routing} (its rows are
     * x's rows in order) and LoRA dropout from {@code dropout} (null: none).
     */
    Variable apply(Variable x, AdapterRouting routing, Rng dropout);
}
