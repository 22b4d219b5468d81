package org.jtune.eval.compare;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.jtune.eval.SampleStatistic;

/**
 * Paired bootstrap of metric differences (Koehn 2004; Efron &amp; Tibshirani 1993): draw n example indices
 * with replacement (java.util.SplittableRandom seeded), score baseline and candidate on the same draw, and
 * record candidate - baseline for every metric both report. The interval is the percentile interval at
 * {@code level} (2.5% and 97.5% for 95%), read from the sorted differences with linear interpolation
 * between order statistics (numpy's default percentile rule).
 */
public final class PairedBootstrap {
    private PairedBootstrap() {
    }

    /** Per metric: {low, high} of the interval. */
    public static Map<String, double[]> intervals(SampleStatistic baseline, SampleStatistic candidate, int n,
                                                  int resamples, long seed, double level) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, double[]> deltas = new LinkedHashMap<>();
        int[] idx = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) idx[i] = random.nextInt(n);
            Map<String, Double> base = baseline.on(idx), cand = candidate.on(idx);
            for (var e : cand.entrySet()) {
                Double bv = base.get(e.getKey());
                if (bv == null) continue;
                deltas.computeIfAbsent(e.getKey(), k -> new double[resamples])[b] = e.getValue() - bv;
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        double tail = (1 - level) / 2;
        for (var e : deltas.entrySet()) {
            double[] d = e.getValue();
            Arrays.sort(d);
            out.put(e.getKey(), new double[] {quantile(d, tail), quantile(d, 1 - tail)});
        }
        return out;
    }

    /** Linear-interpolation quantile of sorted values (numpy "linear"). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
