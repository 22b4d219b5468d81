package org.jtune.models;

import org.jtune.autograd.Variable;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.Device;
import org.jtune.tensor.Tensor;

/**
 * Where a model computes: the device of its weights. {@link #move} copies every weight to a device once
 * (after loading, before adapters are attached or loaded: LoRA parameters, trainable token rows and the
 * optimizer's state are then created on the weights' device, and KV caches follow the keys they receive),
 * so that a forward pass, a training step and a decode step run there with only token ids, positions,
 * targets and the resulting logits or losses crossing between host and device.
 */
public final class ModelDevice {
    private ModelDevice() {}

    /** The device of the model's weights (that of its embedding table). */
    public static Device of(CausalLM model) {
        return model.weights().embedding().value().value().device();
    }

    /**
     * Copies every weight of {@code model} to {@code device} (no-op for weights already there), keeping each
     * one's dtype (BF16/F16 weights stay 16-bit on the device) and whether it is a trainable parameter.
     * Call before attaching or loading adapters.
     */
    public static void move(CausalLM model, Device device) {
        if (!model.adapters().names().isEmpty()) {
            throw new IllegalStateException("move the model to " + device + " before adapters are attached or loaded (it has "
                    + model.adapters().names() + ")");
        }
        for (Weight w : model.weights().all()) {
            Variable v = w.value();
            Tensor t = v.value();
            if (t.device().equals(device)) continue;
            Tensor moved = t.to(device);
            w.set((v.requiresGrad() ? Variable.parameter(moved) : Variable.constant(moved)).named(w.name()));
        }
    }
}
