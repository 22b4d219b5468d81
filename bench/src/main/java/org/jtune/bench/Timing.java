package org.jtune.bench;

import java.util.Arrays;

/**
 * Timing of repeated runs: warm-up runs (at least {@code minWarmups} and at least {@code warmupSeconds}
 * of work) let the JIT compile, then timed repetitions (at least {@code minReps} and at least
 * {@code repSeconds}). Two contenders are timed alternately rep by rep, so a burst of load from other
 * processes on the machine hits both rather than one. Results are medians with the spread (min, max).
 */
record Timing(int minWarmups, double warmupSeconds, int minReps, double repSeconds) {
    /** Median and extremes of the timed repetitions, in seconds. */
    record Result(double median, double min, double max, int reps) {
        double spread() {
            return (max - min) / median;
        }
    }

    /** Times {@code ours} and {@code peer} alternately; returns {ours, peer}. */
    Result[] pair(Runnable ours, Runnable peer) {
        warm(ours);
        if (peer != null) warm(peer);
        double[] a = new double[4096], b = new double[4096];
        int n = 0;
        double total = 0;
        while (n < a.length && (n < minReps || total < repSeconds)) {
            a[n] = seconds(ours);
            b[n] = peer == null ? 0 : seconds(peer);
            total += a[n] + b[n];
            n++;
        }
        return new Result[] {summary(a, n), peer == null ? null : summary(b, n)};
    }

    Result single(Runnable run) {
        return pair(run, null)[0];
    }

    /**
     * Warm-up until the JIT has settled: the minimum runs and seconds, then more rounds (up to
     * {@link #MAX_WARMUP_SECONDS}) while a round of runs is still more than 10 % faster than the round
     * before. Under load (9-11 on 2 cores) C2 compiled the GEMV's vector loops 0.5-1 s after their first
     * call, so a fixed 0.5 s warm-up could time profiled C1 code, where Vector API calls are not
     * intrinsified.
     */
    private void warm(Runnable r) {
        double spent = 0, last = Double.POSITIVE_INFINITY;
        int i = 0;
        for (; i < minWarmups || spent < warmupSeconds; i++) spent += seconds(r);
        double round = spent / i;
        while (spent < MAX_WARMUP_SECONDS && round < 0.9 * last) {
            last = round;
            double t = 0;
            int n = 0;
            for (; n < minWarmups || t < warmupSeconds / 2; n++) t += seconds(r);
            spent += t;
            round = t / n;
        }
    }

    /** Upper bound on a contender's warm-up. */
    static final double MAX_WARMUP_SECONDS = 6;

    private static double seconds(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) * 1e-9;
    }

    private static Result summary(double[] t, int n) {
        double[] s = Arrays.copyOf(t, n);
        Arrays.sort(s);
        double median = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
        return new Result(median, s[0], s[n - 1], n);
    }

    /** The median of v (the mean of the middle two for an even count). */
    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
