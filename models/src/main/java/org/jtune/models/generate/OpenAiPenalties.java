package org.jtune.models.generate;

import java.util.HashMap;
import java.util.Map;

/**
 * OpenAI's presence and frequency penalties and logit bias, as its API defines them: before each token,
 * {@code logit[j] += bias[j] − count[j]·frequency − (count[j] > 0 ? presence : 0)}, where count[j] is how often
 * token j was generated so far in this completion (the prompt does not count; vLLM and llama.cpp's server do
 * the same). A bias of −100 in effect bans a token, +100 in effect forces it. Unlike the repetition penalty
 * (Hugging Face's, a ratio over prompt and output) these are differences, so they stack with any temperature.
 *
 * @param presence  −2..2, subtracted once from every token that has appeared
 * @param frequency −2..2, subtracted per appearance
 * @param bias      token id → −100..100, added every time
 */
public record OpenAiPenalties(float presence, float frequency, Map<Integer, Float> bias) implements LogitsProcessor {
    public OpenAiPenalties {
        if (!(presence >= -2 && presence <= 2)) throw new IllegalArgumentException("presence penalty must be in [-2, 2], got " + presence);
        if (!(frequency >= -2 && frequency <= 2)) throw new IllegalArgumentException("frequency penalty must be in [-2, 2], got " + frequency);
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            if (!(e.getValue() >= -100 && e.getValue() <= 100)) {
                throw new IllegalArgumentException("logit bias of token " + e.getKey() + " must be in [-100, 100], got " + e.getValue());
            }
        }
        bias = Map.copyOf(bias);
    }

    /** Whether it changes anything (all zero: no processor needed). */
    public boolean isActive() {
        return presence != 0 || frequency != 0 || !bias.isEmpty();
    }

    @Override
    public State start() {
        Map<Integer, Integer> counts = new HashMap<>();
        return new State() {
            @Override
            public void process(float[] logits) {
                for (Map.Entry<Integer, Float> e : bias.entrySet()) if (e.getKey() < logits.length) logits[e.getKey()] += e.getValue();
                for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
                    if (e.getKey() < logits.length) logits[e.getKey()] -= e.getValue() * frequency + presence;
                }
            }

            @Override
            public void accept(int token) {
                counts.merge(token, 1, Integer::sum);
            }
        };
    }
}
