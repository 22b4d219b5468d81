package org.jtune.models.generate;

/**
 * Changes a sequence's logits before each token is chosen: structured output (a JSON constraint masks every token
 * that would leave the schema), OpenAI's presence and frequency penalties and logit bias. The engine runs each
 * sampled row through the sequence's {@link State}s before the {@link Sampler} sees it — so every sampling setting
 * (greedy, temperature, top-k/p, min-p) works on the changed row — then tells them the token taken. One processor
 * may serve many sequences at once; each gets its own state from {@link #start}.
 */
public interface LogitsProcessor {
    /** The state for a new sequence, before its first generated token. */
    State start();

    interface State {
        /**
         * Changes the row in place. A token set to −∞ cannot be chosen; a processor that masks leaves at least one
         * token (an end id if nothing else).
         */
        void process(float[] logits);

        /** The sequence took this token. */
        void accept(int token);
    }
}
