package org.jtune.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.jtune.tensor.Rng;
import org.junit.jupiter.api.Test;

/**
 * The bucketed selection of {@link Sampler} keeps exactly the tokens of the definition: sort the whole
 * vocabulary by rank (logit descending, lower id first), cut with top-k, top-p and min-p, draw among the
 * kept tokens in id order with one uniform number ({@link SortingSampler}, the reference; the earlier
 * sampler sorted boxed ids like this for every token, which had been most of a batched decode step).
 * Same seed, same tokens, on vocabularies of odd sizes with tied logits, for every filter combination.
 */
class SamplerSelectionTest {
    /** The definition, with a full sort; the same float weights as the sampler ({@link Sampler#weights}). */
    static final class SortingSampler {
        private final SamplingConfig config;
        private final Rng rng;

        SortingSampler(SamplingConfig config) {
            this.config = config;
            this.rng = new Rng(config.seed());
        }

        int next(float[] logits) {
            int v = logits.length, top = Sampler.argmax(logits);
            float invT = 1f / config.temperature();
            float[] w = new float[v];
            double all = Sampler.weights(logits, invT, logits[top] * invT, w);
            Integer[] order = new Integer[v];
            for (int i = 0; i < v; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> {
                int c = Float.compare(logits[b], logits[a]);
                return c != 0 ? c : Integer.compare(a, b);
            });
            boolean[] kept = new boolean[v];
            int keep = config.topK() > 0 ? Math.min(config.topK(), v) : v;
            for (int i = 0; i < keep; i++) kept[order[i]] = true;
            if (config.topP() < 1f) {
                double mass = 0;
                for (int i = 0; i < v; i++) if (kept[i]) mass += w[i];
                if (keep == v) mass = all; // the sum the weights came with, when nothing was cut yet
                double run = 0;
                int cut = keep;
                for (int i = 0; i < keep; i++) {
                    run += w[order[i]];
                    if (run >= config.topP() * mass) {
                        cut = i + 1;
                        break;
                    }
                }
                for (int i = cut; i < keep; i++) kept[order[i]] = false;
            }
            float floor = config.minP() * w[top];
            double total = 0;
            boolean everything = true;
            for (int i = 0; i < v; i++) {
                if (kept[i] && w[i] >= floor) total += w[i];
                else everything = false;
            }
            if (everything && floor == 0f) total = all;
            double u = rng.nextDouble() * total;
            int last = top;
            for (int i = 0; i < v; i++) {
                if (!kept[i] || w[i] < floor) continue;
                u -= w[i];
                if (u < 0) return i;
                last = i;
            }
            return last;
        }
    }

    @Test
    void selectionDrawsTheTokensOfTheFullSort() {
        Rng values = new Rng(7);
        int cases = 0;
        for (int vocab : new int[] {1, 2, 5, 37, 301, 4099, 32000}) {
            for (float t : new float[] {0.3f, 1f, 1.7f}) {
                for (int k : new int[] {0, 1, 7, 200}) {
                    for (float p : new float[] {1f, 0.95f, 0.5f, 0.05f}) {
                        for (float minP : new float[] {0f, 0.02f, 0.4f}) {
                            if (vocab > 5000 && cases % 4 != 0) {
                                cases++;
                                continue; // the reference's full sort is slow: a quarter of the combinations at full size
                            }
                            float[] logits = new float[vocab];
                            boolean ties = (cases & 1) == 0;
                            for (int i = 0; i < vocab; i++) {
                                float x = (float) values.nextGaussian() * 3f;
                                logits[i] = ties ? Math.round(x * 2) / 2f : x; // many equal logits: ranks fall back to ids
                            }
                            SamplingConfig c = SamplingConfig.greedy(1).withTemperature(t).withTopK(k).withTopP(p).withMinP(minP).withSeed(cases);
                            Sampler fast = new Sampler(c);
                            SortingSampler slow = new SortingSampler(c);
                            int draws = vocab > 5000 ? 3 : 30;
                            for (int d = 0; d < draws; d++) {
                                assertEquals(slow.next(logits), fast.next(logits.clone(), new int[0], 0),
                                        "vocab " + vocab + " T " + t + " k " + k + " p " + p + " min-p " + minP + " draw " + d);
                            }
                            cases++;
                        }
                    }
                }
            }
        }
    }

    @Test
    void rankKeysOrderAsFloatCompareThenId() {
        float[] xs = {Float.NaN, Float.POSITIVE_INFINITY, 3f, 0f, -0f, -1e-30f, -2f, Float.NEGATIVE_INFINITY};
        for (int i = 0; i < xs.length; i++) {
            for (int j = 0; j < xs.length; j++) {
                for (int a : new int[] {0, 5}) {
                    for (int b : new int[] {0, 5}) {
                        int expected = Float.compare(xs[j], xs[i]);
                        if (expected == 0) expected = Integer.compare(a, b);
                        assertEquals(Integer.signum(expected), Integer.signum(Long.compare(Sampler.rankKey(xs[i], a), Sampler.rankKey(xs[j], b))),
                                xs[i] + "#" + a + " vs " + xs[j] + "#" + b);
                    }
                }
            }
        }
    }
}
