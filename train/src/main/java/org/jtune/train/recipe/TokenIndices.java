package org.jtune.train.recipe;

import java.util.List;

/**
 * Tokens whose embedding (and output) rows are trained alongside an adapter (PEFT's
 * trainable_token_indices): explicit ids, and names resolved later against the tokenizer ("eos",
 * "bos", "pad", or a literal token string such as "&lt;|im_end|&gt;"). Empty = none.
 */
public record TokenIndices(List<Integer> ids, List<String> names) {
    public static final TokenIndices NONE = new TokenIndices(List.of(), List.of());

    public TokenIndices {
        ids = List.copyOf(ids);
        names = List.copyOf(names);
    }

    public boolean isEmpty() {
        return ids.isEmpty() && names.isEmpty();
    }
}
