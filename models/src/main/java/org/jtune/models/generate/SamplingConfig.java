package org.jtune.models.generate;

import java.util.List;

/**
 * How the next token is chosen and when generation stops. Defaults give greedy decoding.
 *
 * @param temperature       0 = greedy (argmax, first maximum on ties); otherwise logits are divided by it
 * @param topK              keep the k most likely tokens (0 = all)
 * @param topP              keep the smallest set whose probability reaches p (1 = all)
 * @param minP              drop tokens whose probability is below minP × the top probability (0 = none)
 * @param repetitionPenalty CTRL-style: logits of tokens already in the sequence are divided by it when
 *                          positive and multiplied when negative (1 = none)
 * @param seed              seed of the sampling generator
 * @param maxNewTokens      at most this many generated tokens
 * @param stopIds           generation stops after one of these ids (it is kept in the output ids)
 * @param stopStrings       generation stops when the decoded text ends with one of these (trimmed from the text)
 * @param processors        what changes the logits before each choice, in order (structured output, penalties, bias)
 * @param promptLookup      greedy decoding only: up to this many tokens drafted per step by prompt lookup and checked in
 *                          one step (speculative decoding, same tokens; see {@link StepEngine}); 0 = none
 */
public record SamplingConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             long seed, int maxNewTokens, List<Integer> stopIds, List<String> stopStrings,
                             List<LogitsProcessor> processors, int promptLookup) {
    public SamplingConfig {
        if (temperature < 0 || Float.isNaN(temperature)) throw new IllegalArgumentException("temperature must be ≥ 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be ≥ 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, got " + repetitionPenalty);
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be ≥ 0, got " + maxNewTokens);
        stopIds = List.copyOf(stopIds);
        stopStrings = List.copyOf(stopStrings);
        processors = List.copyOf(processors);
        if (promptLookup < 0) throw new IllegalArgumentException("prompt lookup must be ≥ 0, got " + promptLookup);
    }

    public SamplingConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                          long seed, int maxNewTokens, List<Integer> stopIds, List<String> stopStrings) {
        this(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, List.of(), 0);
    }

    /**
     * Greedy decoding that stops at the model's end-of-sequence ids (config.json's and the tokenizer's, see
     * {@link StopIds}): what an answer needs.
     */
    public static SamplingConfig greedyUntilEos(org.jtune.models.config.ModelConfig config,
                                                org.jtune.models.tokenizer.Tokenizer tokenizer, int maxNewTokens) {
        return greedy(maxNewTokens).withStopIds(StopIds.of(config, tokenizer));
    }

    /** Greedy decoding with no stop id: it runs to maxNewTokens (see {@link #greedyUntilEos} for answers). */
    public static SamplingConfig greedy(int maxNewTokens) {
        return new SamplingConfig(0f, 0, 1f, 0f, 1f, 0L, maxNewTokens, List.of(), List.of());
    }

    public SamplingConfig withTemperature(float t) {
        return new SamplingConfig(t, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withTopK(int k) {
        return new SamplingConfig(temperature, k, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withTopP(float p) {
        return new SamplingConfig(temperature, topK, p, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withMinP(float p) {
        return new SamplingConfig(temperature, topK, topP, p, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withRepetitionPenalty(float r) {
        return new SamplingConfig(temperature, topK, topP, minP, r, seed, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withMaxNewTokens(int n) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, n, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withSeed(long s) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, s, maxNewTokens, stopIds, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withStopIds(List<Integer> ids) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, ids, stopStrings, processors, promptLookup);
    }

    public SamplingConfig withStopStrings(List<String> s) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, s, processors, promptLookup);
    }

    /** The same settings with one more logits processor, run after those already there (e.g. a JSON constraint). */
    public SamplingConfig withProcessor(LogitsProcessor p) {
        List<LogitsProcessor> more = new java.util.ArrayList<>(processors);
        more.add(p);
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, more, promptLookup);
    }

    /** The same settings, drafting up to n tokens per step by prompt lookup when decoding greedily (0: none). */
    public SamplingConfig withPromptLookup(int n) {
        return new SamplingConfig(temperature, topK, topP, minP, repetitionPenalty, seed, maxNewTokens, stopIds, stopStrings, processors, n);
    }
}
