package org.jtune.models;

import org.jtune.models.kv.KvCache;

/**
 * New tokens of one sequence in an inference step ({@link CausalLM#step}): a whole prompt, a
 * piece of a long prompt, or the one token being decoded. They continue the sequence's own KV
 * cache, whose length is their first position.
 *
 * @param adapter the LoRA adapter this sequence uses, or null for the base model
 */
public record SequenceChunk(int[] tokens, KvCache cache, String adapter) {
    public SequenceChunk {
        if (tokens.length == 0) throw new IllegalArgumentException("a sequence chunk needs at least one token");
        tokens = tokens.clone();
    }
}
