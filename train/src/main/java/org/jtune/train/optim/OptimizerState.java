package org.jtune.train.optim;

import java.util.Map;
import java.util.TreeMap;
import org.jtune.tensor.Tensor;

/**
 * An optimizer's state as a checkpoint stores it: the optimizer kind ("adamw", "sgd"), its step
 * count, and named tensors ({@code <param name>.exp_avg}, {@code .exp_avg_sq}, {@code .momentum_buffer}).
 * The tensors returned by {@link Optimizer#state()} are the live buffers, valid until the next
 * step: serialise them right away, or copy them.
 */
public record OptimizerState(String kind, long step, Map<String, Tensor> tensors) {
    public OptimizerState {
        if (step < 0) throw new IllegalArgumentException("optimizer step must be >= 0, got " + step);
        tensors = java.util.Collections.unmodifiableMap(new TreeMap<>(tensors));
    }

    /** A deep copy whose tensors no longer alias the optimizer's buffers. */
    public OptimizerState copy() {
        Map<String, Tensor> c = new TreeMap<>();
        tensors.forEach((k, t) -> c.put(k, t.copy()));
        return new OptimizerState(kind, step, c);
    }
}
