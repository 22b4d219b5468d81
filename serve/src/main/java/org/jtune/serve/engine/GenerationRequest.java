package org.jtune.serve.engine;

import java.util.Objects;
import org.jtune.models.generate.SamplingConfig;

/**
 * One request handed to an {@link Engine}: token ids in, token ids out. Text never reaches the
 * engine: the caller renders and tokenizes the prompt, and detokenizes and matches stop strings on
 * its own thread (it cancels the request when a stop string appears).
 *
 * @param id          the response id (chatcmpl-..., cmpl-...), for logs and metrics
 * @param model       the served name of the base model or of an adapter; {@link Engine#modelNames()} lists them
 * @param promptIds   the prompt, at least one id
 * @param sampling    temperature, top-p/top-k, seed, max new tokens and stop ids; its stop strings must be
 *                    empty (they are the caller's)
 * @param topLogprobs −1: no log-probabilities; 0..20: the chosen token's log-probability and this many
 *                    most likely alternatives per step
 * @param promptLogprobs report the prompt's tokens after the first with their log-probabilities and alternatives too
 *                    ({@link TokenSink#onPromptToken}; OpenAI's echo with logprobs): needs topLogprobs ≥ 0
 */
public record GenerationRequest(String id, String model, int[] promptIds, SamplingConfig sampling, int topLogprobs, boolean promptLogprobs) {
    public static final int MAX_TOP_LOGPROBS = 20;

    public GenerationRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(sampling, "sampling");
        if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("a prompt needs at least one token");
        if (!sampling.stopStrings().isEmpty()) throw new IllegalArgumentException("stop strings are matched by the caller, not the engine");
        if (topLogprobs < -1 || topLogprobs > MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException("top logprobs must be -1 (none) or 0.." + MAX_TOP_LOGPROBS + ", got " + topLogprobs);
        }
        if (promptLogprobs && topLogprobs < 0) throw new IllegalArgumentException("prompt logprobs need top logprobs of 0 or more");
        promptIds = promptIds.clone();
    }

    public GenerationRequest(String id, String model, int[] promptIds, SamplingConfig sampling, int topLogprobs) {
        this(id, model, promptIds, sampling, topLogprobs, false);
    }

    public boolean logprobs() {
        return topLogprobs >= 0;
    }
}
