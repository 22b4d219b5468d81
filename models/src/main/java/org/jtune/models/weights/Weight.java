package org.jtune.models.weights;

import java.util.Arrays;
import org.jtune.autograd.Variable;

/**
 * One named weight of a model: its Hugging Face tensor name, the shape its config implies, its role
 * (which decides how it is initialised and whether LoRA may target it) and its current value. The
 * model's layers read {@link #value()} on every forward, so replacing the value (a trainable copy, a
 * merged weight, a quantized one) changes the model without touching the layers. A tied head and
 * the embedding share one Weight.
 */
public final class Weight {
    /** What a weight is for. */
    public enum Role {
        /** (vocab, dim) token embedding; N(0, std²) at initialisation. */
        EMBEDDING,
        /** (out, in) projection without bias; a LoRA target; N(0, std²). */
        LINEAR,
        /** (out) bias of a projection; zeros. */
        BIAS,
        /** (dim) normalisation scale; ones. */
        NORM,
        /** (experts, dim) router of a mixture-of-experts layer; N(0, std²); kept in full precision (never quantized); a LoRA target, as PEFT's all-linear makes it. */
        ROUTER
    }

    private final String name;
    private final int[] shape;
    private final Role role;
    private Variable value;

    Weight(String name, Role role, int[] shape) {
        this.name = name;
        this.role = role;
        this.shape = shape.clone();
    }

    /** The Hugging Face tensor name, e.g. model.layers.3.self_attn.q_proj.weight. */
    public String name() {
        return name;
    }

    public Role role() {
        return role;
    }

    /** The shape config.json implies. */
    public int[] shape() {
        return shape.clone();
    }

    public int size(int dim) {
        return shape[dim];
    }

    /** The current value (a frozen constant, or a trainable parameter during full fine-tuning). */
    public Variable value() {
        if (value == null) throw new IllegalStateException("weight " + name + " has no value yet");
        return value;
    }

    /** Replaces the value; its shape must be the one the config implies. */
    public void set(Variable v) {
        if (!Arrays.equals(v.shape(), shape)) {
            throw new IllegalArgumentException("weight " + name + " must have shape " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(v.shape()));
        }
        this.value = v.name() == null ? v.named(name) : v;
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + (value == null ? "" : " " + value.dtype());
    }
}
