package org.jtune.models;

import org.jtune.autograd.NoGrad;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Tensor;

/**
 * One sequence through a model without recording gradients, for readers of its states rather than its tokens: the
 * hidden states after some layers (embeddings for BERTScore, monitoring's mean-pooled prompts) or the logits of every
 * position (scoring references). Causal, with the model's sliding window.
 */
public final class HiddenStates {
    private HiddenStates() {}

    /** The states (T, dim) after the first {@code depth} layers of ids at positions 0 .. T − 1, row-major. */
    public static float[] of(CausalLM model, int[] ids, int depth) {
        try (NoGrad ignored = NoGrad.enter()) {
            return model.hiddenAfter(depth, Tensor.ofInts(ids, 1, ids.length), positions(ids.length), pass(model)).value().contiguous().toFloatArray();
        }
    }

    /** The logits (T, vocab) of every position, row-major: row t predicts token t + 1. */
    public static float[] logits(CausalLM model, int[] ids) {
        try (NoGrad ignored = NoGrad.enter()) {
            return model.logits(model.hidden(Tensor.ofInts(ids, 1, ids.length), positions(ids.length), pass(model))).value().contiguous().toFloatArray();
        }
    }

    private static Tensor positions(int t) {
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) pos[i] = i;
        return Tensor.ofInts(pos, 1, t);
    }

    private static ForwardPass pass(CausalLM model) {
        int window = model.config().slidingWindow() == null ? 0 : model.config().slidingWindow();
        return ForwardPass.of(AttentionMask.causalMask().withWindow(window));
    }
}
