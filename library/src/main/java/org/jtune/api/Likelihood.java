package org.jtune.api;

/**
 * How likely a model finds a continuation of a context ({@link LanguageModel#logLikelihood}), as lm-evaluation-harness
 * scores its loglikelihood and multiple-choice tasks.
 *
 * @param logprob the sum of the continuation's token log-probabilities, each given what precedes it
 * @param tokens  how many tokens the continuation took
 * @param greedy  whether every one of them is the model's most likely next token
 */
public record Likelihood(double logprob, int tokens, boolean greedy) {
    /**
     * The log-probability per token (length-normalised).
     *
     * @return {@code logprob / tokens}, 0 without tokens
     */
    public double perToken() {
        return tokens == 0 ? 0 : logprob / tokens;
    }
}
