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

    private void warm(Runnable r) {
        double spent = 0;
        for (int i = 0; i < minWarmups || spent < warmupSeconds; i++) spent += seconds(r);
    }

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
}
