package org.jtune.autograd;

import java.util.HashMap;
import java.util.Map;

/**
 * A few rows of a (frozen) embedding table trained on their own, e.g. the rows of newly added
 * special tokens: {@code values} (R, D) holds the trained rows of tokens {@code tokenIds} (R).
 * {@link Embedding#apply(Variable, org.jtune.tensor.Tensor, TrainableRows)} reads those tokens from
 * here and all others from the table, so the gradient is an (R, D) tensor, never (V, D).
 */
public record TrainableRows(int[] tokenIds, Variable values) {
    public TrainableRows {
        tokenIds = tokenIds.clone();
        if (values.rank() != 2 || values.size(0) != tokenIds.length) {
            throw new IllegalArgumentException("trainable rows: values must be (" + tokenIds.length + ", D), got " + values.value());
        }
    }

    /** token id → row of {@code values}. */
    Map<Integer, Integer> index() {
        Map<Integer, Integer> m = new HashMap<>();
        for (int r = 0; r < tokenIds.length; r++) {
            if (m.put(tokenIds[r], r) != null) throw new IllegalArgumentException("trainable rows: token " + tokenIds[r] + " listed twice");
        }
        return m;
    }
}
