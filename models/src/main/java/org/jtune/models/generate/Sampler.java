package org.jtune.models.generate;

import java.util.Arrays;
import org.jtune.tensor.Rng;

/**
 * Chooses the next token from one row of logits as {@link SamplingConfig} says, in the order
 * Hugging Face applies its logits processors: repetition penalty, temperature, top-k, top-p, min-p,
 * then a draw from the renormalised distribution. Greedy (temperature 0) takes the first maximum.
 * The generator's state is explicit so a run is reproducible from its seed.
 */
public final class Sampler {
    private final SamplingConfig config;
    private final Rng rng;

    public Sampler(SamplingConfig config) {
        this.config = config;
        this.rng = new Rng(config.seed());
    }

    /** The next token id; {@code logits} is scratch and may be modified; {@code history} are the ids so far. */
    public int next(float[] logits, int[] history, int historyLength) {
        if (config.repetitionPenalty() != 1f) applyRepetitionPenalty(logits, history, historyLength, config.repetitionPenalty());
        if (config.temperature() == 0f) return argmax(logits);
        int v = logits.length;
        float invT = 1f / config.temperature();
        // order tokens by logit (descending, lower id first on ties)
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[b], logits[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int keep = config.topK() > 0 ? Math.min(config.topK(), v) : v;
        double max = logits[order[0]] * invT;
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(logits[order[i]] * invT - max);
            sum += p[i];
        }
        // top-p: smallest prefix whose mass reaches p (at least one token)
        if (config.topP() < 1f) {
            double mass = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                mass += p[i] / sum;
                if (mass >= config.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
        }
        // min-p: relative to the most likely token
        if (config.minP() > 0f) {
            double threshold = config.minP() * p[0];
            int cut = 1;
            while (cut < keep && p[cut] >= threshold) cut++;
            keep = cut;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[i];
        double u = rng.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best] || (Float.isNaN(logits[i]) && !Float.isNaN(logits[best]))) best = i;
        }
        return best;
    }

    static void applyRepetitionPenalty(float[] logits, int[] history, int n, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < n; i++) {
            int id = history[i];
            if (id < 0 || id >= logits.length || seen[id]) continue;
            seen[id] = true;
            logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
        }
    }
}
