package org.jtune.eval.generation;

import java.util.Arrays;

/** Summary of a list of lengths: mean, median (mean of the middle two when even), min, max and the 90th percentile (nearest rank). */
public record LengthStats(double mean, double median, long min, long max, long p90) {
    public static LengthStats of(long[] lengths) {
        if (lengths.length == 0) return new LengthStats(0, 0, 0, 0, 0);
        long[] s = lengths.clone();
        Arrays.sort(s);
        double sum = 0;
        for (long v : s) sum += v;
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
        long p90 = s[Math.max(0, (int) Math.ceil(0.9 * n) - 1)];
        return new LengthStats(sum / n, median, s[0], s[n - 1], p90);
    }
}
