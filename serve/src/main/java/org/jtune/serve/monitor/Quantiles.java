package org.jtune.serve.monitor;

import java.util.Arrays;

/**
 * Sample quantiles by linear interpolation between order statistics: the q-quantile of n sorted values
 * is at fractional index q·(n−1) (Hyndman &amp; Fan definition 7; numpy.percentile's default 'linear').
 */
public final class Quantiles {
    private Quantiles() {}

    /** The q-quantile (0 ≤ q ≤ 1) of already sorted values; NaN for an empty sample. */
    public static double ofSorted(double[] sorted, double q) {
        int n = sorted.length;
        if (n == 0) return Double.NaN;
        double h = q * (n - 1);
        int lo = (int) Math.floor(h);
        int hi = Math.min(n - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    public static double of(double[] values, double q) {
        double[] s = values.clone();
        Arrays.sort(s);
        return ofSorted(s, q);
    }
}
