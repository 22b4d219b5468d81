package org.jtune.serve.engine;

/**
 * Log-probabilities of one step's logits, as OpenAI's logprobs report them: log softmax(z)_i =
 * z_i − log Σ_j exp(z_j), computed in double with the maximum subtracted first (so exp never
 * overflows), over the raw logits (before temperature, top-k and top-p, as vLLM reports by default).
 */
final class TokenLogprobs {
    private TokenLogprobs() {}

    /** The token {@code chosen} with its log-probability and the {@code top} most likely ids (ties: lower id first). */
    static GeneratedToken of(float[] logits, int chosen, int top, long nanoTime) {
        double max = Double.NEGATIVE_INFINITY;
        for (float z : logits) if (z > max) max = z;
        double sum = 0;
        for (float z : logits) sum += Math.exp(z - max);
        double logSum = max + Math.log(sum);
        int k = Math.min(top, logits.length);
        int[] ids = new int[k];
        double[] lps = new double[k];
        int filled = 0;
        // insertion into a sorted array of k: O(V·k), k ≤ 20
        for (int i = 0; i < logits.length; i++) {
            float z = logits[i];
            if (filled == k && (k == 0 || !(z > logits[ids[k - 1]]))) continue;
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && z > logits[ids[at - 1]]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        for (int i = 0; i < k; i++) lps[i] = logits[ids[i]] - logSum;
        return new GeneratedToken(chosen, logits[chosen] - logSum, ids, lps, nanoTime);
    }
}
