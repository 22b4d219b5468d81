package org.jtune.serve.monitor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Population stability index between a reference (expected) and a current (actual) distribution:
 * PSI = Σ_i (a_i − e_i) · ln(a_i / e_i) over bins, with the shares a_i, e_i floored at {@link #FLOOR}
 * so an empty bin counts as rare rather than infinite (Siddiqi, Credit Risk Scorecards, 2006; < 0.1
 * stable, 0.1–0.25 moderate, > 0.25 large shift). Numeric values go into {@link #BINS} bins cut at the
 * reference's quantiles (duplicate edges merged), with open ends, and a value equal to an edge falls
 * in the bin to its right (numpy.digitize with right=False).
 */
public final class Psi {
    public static final double FLOOR = 1e-4;
    public static final int BINS = 10;

    private Psi() {}

    /** Inner bin edges: the reference's 1/BINS … (BINS−1)/BINS quantiles, distinct and increasing. */
    public static double[] edges(double[] reference, int bins) {
        double[] s = reference.clone();
        Arrays.sort(s);
        double[] e = new double[bins - 1];
        for (int i = 1; i < bins; i++) e[i - 1] = Quantiles.ofSorted(s, (double) i / bins);
        return Arrays.stream(e).distinct().toArray();
    }

    /** Counts per bin: bin k holds edges[k−1] ≤ v < edges[k] (numpy.digitize, right=False). */
    public static long[] counts(double[] values, double[] edges) {
        long[] c = new long[edges.length + 1];
        for (double v : values) {
            int k = Arrays.binarySearch(edges, v);
            k = k >= 0 ? k + 1 : -k - 1;
            // binarySearch finds one of equal edges; edges are distinct, so k is the number of edges <= v
            c[k]++;
        }
        return c;
    }

    public static double numeric(double[] reference, double[] current) {
        double[] edges = edges(reference, BINS);
        return of(counts(reference, edges), counts(current, edges));
    }

    /** PSI of two count vectors over the same bins. */
    public static double of(long[] expected, long[] actual) {
        double te = Arrays.stream(expected).sum(), ta = Arrays.stream(actual).sum();
        if (te == 0 || ta == 0) return Double.NaN;
        double psi = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.max(FLOOR, expected[i] / te), a = Math.max(FLOOR, actual[i] / ta);
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }

    /** PSI of two categorical count maps over the union of their categories. */
    public static double categorical(Map<String, Long> expected, Map<String, Long> actual) {
        Map<String, long[]> both = new LinkedHashMap<>();
        expected.forEach((k, v) -> both.computeIfAbsent(k, x -> new long[2])[0] = v);
        actual.forEach((k, v) -> both.computeIfAbsent(k, x -> new long[2])[1] = v);
        long[] e = new long[both.size()], a = new long[both.size()];
        int i = 0;
        for (long[] v : both.values()) {
            e[i] = v[0];
            a[i++] = v[1];
        }
        return of(e, a);
    }
}
