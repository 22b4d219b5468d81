package org.jtune.eval.human;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Krippendorff's alpha for nominal data with any number of raters and missing ratings (Krippendorff,
 * "Computing Krippendorff's Alpha-Reliability", 2011): build the coincidence matrix o_ck from every item
 * with at least two ratings (each ordered pair of ratings within an item adds 1/(m_u - 1)), then
 * alpha = 1 - (n - 1) Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k, with n_c the row sums and n their total.
 * {@code ratings.get(r).get(u)} is rater r's category for item u, or null when missing.
 */
public final class KrippendorffAlpha {
    private KrippendorffAlpha() {
    }

    public static double nominal(List<List<String>> ratings) {
        int items = ratings.isEmpty() ? 0 : ratings.get(0).size();
        TreeSet<String> cats = new TreeSet<>();
        for (List<String> r : ratings) for (String v : r) if (v != null) cats.add(v);
        Map<String, Integer> index = new HashMap<>();
        for (String c : cats) index.put(c, index.size());
        int k = cats.size();
        double[][] o = new double[k][k];
        for (int u = 0; u < items; u++) {
            int[] counts = new int[k];
            int m = 0;
            for (List<String> r : ratings) {
                String v = r.get(u);
                if (v != null) {
                    counts[index.get(v)]++;
                    m++;
                }
            }
            if (m < 2) continue;
            for (int c = 0; c < k; c++) {
                for (int d = 0; d < k; d++) {
                    long pairs = c == d ? (long) counts[c] * (counts[c] - 1) : (long) counts[c] * counts[d];
                    o[c][d] += (double) pairs / (m - 1);
                }
            }
        }
        double[] nc = new double[k];
        double n = 0;
        for (int c = 0; c < k; c++) {
            for (int d = 0; d < k; d++) nc[c] += o[c][d];
            n += nc[c];
        }
        double observed = 0, expected = 0;
        for (int c = 0; c < k; c++) {
            for (int d = 0; d < k; d++) {
                if (c == d) continue;
                observed += o[c][d];
                expected += nc[c] * nc[d];
            }
        }
        if (expected == 0) return Double.NaN;
        return 1 - (n - 1) * observed / expected;
    }
}
