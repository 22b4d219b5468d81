package org.jtune.models.generate;

/**
 * Which tokens a sequence may take next (structured output: JSON that follows a schema). The engine masks
 * each sampled row through the sequence's {@link State} before the {@link Sampler} sees it, so every sampling
 * setting (greedy, temperature, top-k/p, min-p) draws only among allowed tokens, then tells the state the
 * token it took. One constraint may serve many sequences at once; each gets its own state from {@link #start}.
 */
public interface TokenConstraint {
    /** The state for a new sequence, before its first generated token. */
    State start();

    interface State {
        /** Sets the logits of the tokens not allowed next to −∞ (at least one token, an end id if nothing else, stays). */
        void mask(float[] logits);

        /** The sequence took this token (one the last mask allowed). */
        void accept(int token);
    }
}
