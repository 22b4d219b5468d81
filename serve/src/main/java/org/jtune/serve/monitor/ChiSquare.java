package org.jtune.serve.monitor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pearson's chi-square test of homogeneity on a 2×k table (reference counts, current counts per
 * category): X² = Σ (O − E)² / E with E = row total · column total / grand total, k−1 degrees of
 * freedom (categories empty on both sides dropped), p = Q((k−1)/2, X²/2) with Q the regularized upper
 * incomplete gamma function. This is scipy.stats.chi2_contingency with correction=False.
 */
public final class ChiSquare {
    public record Result(double statistic, int dof, double pValue) {}

    private ChiSquare() {}

    public static Result homogeneity(Map<String, Long> reference, Map<String, Long> current) {
        Map<String, long[]> both = new LinkedHashMap<>();
        reference.forEach((k, v) -> both.computeIfAbsent(k, x -> new long[2])[0] += v);
        current.forEach((k, v) -> both.computeIfAbsent(k, x -> new long[2])[1] += v);
        List<long[]> cols = new ArrayList<>();
        for (long[] c : both.values()) if (c[0] + c[1] > 0) cols.add(c);
        double r0 = 0, r1 = 0;
        for (long[] c : cols) {
            r0 += c[0];
            r1 += c[1];
        }
        double total = r0 + r1;
        if (cols.size() < 2 || r0 == 0 || r1 == 0) return new Result(0, Math.max(0, cols.size() - 1), 1);
        double x2 = 0;
        for (long[] c : cols) {
            double col = c[0] + c[1];
            double e0 = r0 * col / total, e1 = r1 * col / total;
            x2 += (c[0] - e0) * (c[0] - e0) / e0 + (c[1] - e1) * (c[1] - e1) / e1;
        }
        int dof = cols.size() - 1;
        return new Result(x2, dof, Gamma.regularizedUpper(dof / 2.0, x2 / 2));
    }
}
