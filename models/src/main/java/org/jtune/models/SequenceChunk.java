package org.jtune.models;

import org.jtune.models.kv.KvCache;

/**
 * New tokens of one sequence in an inference step ({@link CausalLM#step}): a whole prompt, a
 * piece of a long prompt, or the one token being decoded. They continue the sequence's own KV
 * cache, whose length is their first position.
 *
 * @param adapter   the LoRA adapter this sequence uses, or null for the base model
 * @param logitRows how many of its last positions the step returns logits for: 1, or more when the chunk checks
 *                  drafted tokens (speculative decoding: the logits after each of them)
 */
public record SequenceChunk(int[] tokens, KvCache cache, String adapter, int logitRows) {
    public SequenceChunk {
        if (tokens.length == 0) throw new IllegalArgumentException("a sequence chunk needs at least one token");
        if (logitRows < 1 || logitRows > tokens.length) {
            throw new IllegalArgumentException("logit rows must be 1.." + tokens.length + ", got " + logitRows);
        }
        tokens = tokens.clone();
    }

    /** A chunk whose last position's logits are returned. */
    public SequenceChunk(int[] tokens, KvCache cache, String adapter) {
        this(tokens, cache, adapter, 1);
    }
}
