package org.jtune.models.llama;

import org.jtune.autograd.Arithmetic;
import org.jtune.autograd.Dropout;
import org.jtune.autograd.Linear;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.tensor.Rng;

/**
 * A Hugging Face Linear (weight (out, in), no bias) that may carry a LoRA adapter:
 * y = x·Wᵀ + scale · dropout(x)·Aᵀ·Bᵀ. The base weight keeps its stored dtype (F32, BF16, F16) and is
 * trainable only in full fine-tuning. Room is left for a quantized weight (quant module) and for
 * adapters chosen per request (serve module).
 */
public final class LoraLinear {
    private final String name;
    private Variable weight;
    private LoraAdapter adapter;

    public LoraLinear(String name, Variable weight) {
        this.name = name;
        this.weight = weight;
    }

    /** The Hugging Face name of the weight, e.g. model.layers.3.self_attn.q_proj.weight. */
    public String name() {
        return name;
    }

    public Variable weight() {
        return weight;
    }

    public void setWeight(Variable w) {
        this.weight = w;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    public void setAdapter(LoraAdapter a) {
        this.adapter = a;
    }

    public int inFeatures() {
        return weight.value().size(1);
    }

    public int outFeatures() {
        return weight.value().size(0);
    }

    /** y = x·Wᵀ (+ the adapter's contribution); {@code rng} drives adapter dropout in training (null: no dropout). */
    public Variable apply(Variable x, Rng rng) {
        Variable y = Linear.apply(x, weight);
        if (adapter == null) return y;
        Variable in = adapter.dropout() > 0 && rng != null && !NoGrad.active() ? Dropout.apply(x, adapter.dropout(), rng) : x;
        Variable delta = Linear.apply(Linear.apply(in, adapter.a()), adapter.b());
        return Arithmetic.add(y, Arithmetic.scale(delta, adapter.scale()));
    }
}
