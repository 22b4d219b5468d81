package org.jtune.serve.engine;

/**
 * One generated token as the engine reports it.
 *
 * @param id          the token id
 * @param logprob     its log-probability under the model's distribution (raw logits, before temperature and
 *                    top-p), or NaN when the request asked for none
 * @param topIds      the most likely ids at this step, most likely first (empty unless asked for)
 * @param topLogprobs their log-probabilities
 * @param nanoTime    {@link System#nanoTime()} when the engine produced it (time to first token, inter-token latency)
 */
public record GeneratedToken(int id, double logprob, int[] topIds, double[] topLogprobs, long nanoTime) {
    private static final int[] NO_IDS = new int[0];
    private static final double[] NO_LOGPROBS = new double[0];

    public GeneratedToken {
        if (topIds == null) topIds = NO_IDS;
        if (topLogprobs == null) topLogprobs = NO_LOGPROBS;
        if (topIds.length != topLogprobs.length) throw new IllegalArgumentException("top ids and top logprobs differ in length");
    }

    public static GeneratedToken plain(int id, long nanoTime) {
        return new GeneratedToken(id, Double.NaN, NO_IDS, NO_LOGPROBS, nanoTime);
    }
}
