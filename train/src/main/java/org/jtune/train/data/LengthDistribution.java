package org.jtune.train.data;

import java.util.Arrays;

/**
 * Summary of a list of lengths (tokens per example): count, min, nearest-rank percentiles p50, p90,
 * p99 (the smallest value with at least p% of values at or below it), max and mean. All zero for an
 * empty list.
 */
public record LengthDistribution(int count, long min, long p50, long p90, long p99, long max, double mean) {

    public static LengthDistribution of(long[] values) {
        if (values.length == 0) return new LengthDistribution(0, 0, 0, 0, 0, 0, 0);
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        long sum = 0;
        for (long v : sorted) sum += v;
        return new LengthDistribution(sorted.length, sorted[0], percentile(sorted, 50), percentile(sorted, 90),
                percentile(sorted, 99), sorted[sorted.length - 1], (double) sum / sorted.length);
    }

    /** Nearest-rank percentile of sorted values: the element at rank ceil(p/100 * n), 1-based. */
    static long percentile(long[] sorted, int p) {
        if (p < 1 || p > 100) throw new IllegalArgumentException("percentile must be in 1..100, got " + p);
        long rank = ((long) p * sorted.length + 99) / 100;   // ceil in integers: no rounding surprises
        return sorted[(int) Math.max(rank, 1) - 1];
    }
}
