package org.jtune.eval.human;

import java.util.List;
import java.util.TreeSet;

/**
 * Cohen's kappa for two raters on nominal categories (Cohen 1960): (p_o - p_e) / (1 - p_e) with p_o the
 * observed agreement and p_e the chance agreement from the two raters' marginals; as scikit-learn's
 * {@code cohen_kappa_score} (unweighted). Items either rater left unrated are skipped. When chance agreement
 * is already 1 (both raters used one and the same category) kappa is undefined: NaN.
 */
public final class CohenKappa {
    private CohenKappa() {
    }

    public static double of(List<String> a, List<String> b) {
        if (a.size() != b.size()) throw new IllegalArgumentException("raters rated different numbers of items");
        TreeSet<String> cats = new TreeSet<>();
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != null && b.get(i) != null) {
                cats.add(a.get(i));
                cats.add(b.get(i));
            }
        }
        List<String> c = List.copyOf(cats);
        int k = c.size();
        long[][] m = new long[k][k];
        long n = 0;
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) == null || b.get(i) == null) continue;
            m[c.indexOf(a.get(i))][c.indexOf(b.get(i))]++;
            n++;
        }
        if (n == 0) return Double.NaN;
        double po = 0, pe = 0;
        for (int i = 0; i < k; i++) {
            po += m[i][i];
            long row = 0, col = 0;
            for (int j = 0; j < k; j++) {
                row += m[i][j];
                col += m[j][i];
            }
            pe += (double) row * col;
        }
        po /= n;
        pe /= (double) n * n;
        return pe == 1 ? Double.NaN : (po - pe) / (1 - pe);
    }
}
