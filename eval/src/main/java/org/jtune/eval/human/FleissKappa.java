package org.jtune.eval.human;

/**
 * Fleiss' kappa for a fixed number of raters per item on nominal categories (Fleiss 1971), from an
 * items × categories table of counts (every row summing to the same number of raters); as statsmodels'
 * {@code fleiss_kappa(table, method='fleiss')}. P̄ = mean over items of Σ n_ij(n_ij - 1) / (n(n - 1)),
 * P̄_e = Σ p_j² with p_j the share of all ratings in category j; kappa = (P̄ - P̄_e) / (1 - P̄_e).
 */
public final class FleissKappa {
    private FleissKappa() {
    }

    public static double of(long[][] table) {
        int items = table.length;
        if (items == 0) return Double.NaN;
        int k = table[0].length;
        long raters = 0;
        for (long v : table[0]) raters += v;
        if (raters < 2) throw new IllegalArgumentException("Fleiss' kappa needs at least two ratings per item");
        double pBar = 0;
        double[] share = new double[k];
        for (long[] row : table) {
            long sum = 0, agree = 0;
            for (int j = 0; j < k; j++) {
                sum += row[j];
                agree += row[j] * (row[j] - 1);
                share[j] += row[j];
            }
            if (sum != raters) throw new IllegalArgumentException("every item needs the same number of ratings");
            pBar += (double) agree / (raters * (raters - 1));
        }
        pBar /= items;
        double pe = 0;
        for (double s : share) {
            double p = s / ((double) items * raters);
            pe += p * p;
        }
        return pe == 1 ? Double.NaN : (pBar - pe) / (1 - pe);
    }
}
