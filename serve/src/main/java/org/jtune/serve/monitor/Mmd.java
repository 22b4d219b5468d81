package org.jtune.serve.monitor;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Maximum mean discrepancy between two samples of vectors with the Gaussian (RBF) kernel
 * k(x, y) = exp(−‖x − y‖² / (2σ²)), unbiased estimator (Gretton et al., "A Kernel Two-Sample Test",
 * JMLR 2012, eq. 3):
 * MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i,x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i,y_j) − 2/(mn) Σ_{i,j} k(x_i,y_j).
 * σ is the median of the pairwise distances of the pooled sample (the median heuristic), unless
 * given. The p-value comes from a permutation test: the pooled sample relabelled at random
 * {@code permutations} times, p = (1 + #{MMD²_perm ≥ MMD²_obs}) / (1 + permutations).
 */
public final class Mmd {
    public record Result(double mmd2, double sigma, double pValue, int permutations) {}

    private Mmd() {}

    public static Result test(float[][] x, float[][] y, double sigma, int permutations, long seed) {
        int m = x.length, n = y.length;
        float[][] pooled = new float[m + n][];
        System.arraycopy(x, 0, pooled, 0, m);
        System.arraycopy(y, 0, pooled, m, n);
        double[][] d2 = new double[m + n][m + n];
        for (int i = 0; i < m + n; i++) {
            for (int j = i + 1; j < m + n; j++) {
                double s = 0;
                for (int k = 0; k < pooled[i].length; k++) {
                    double t = pooled[i][k] - pooled[j][k];
                    s += t * t;
                }
                d2[i][j] = d2[j][i] = s;
            }
        }
        if (sigma <= 0) sigma = medianDistance(d2);
        if (sigma <= 0) sigma = 1;
        double[][] kern = new double[m + n][m + n];
        double g = 1 / (2 * sigma * sigma);
        for (int i = 0; i < m + n; i++) for (int j = 0; j < m + n; j++) kern[i][j] = Math.exp(-d2[i][j] * g);
        int[] idx = new int[m + n];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        double observed = mmd2(kern, idx, m);
        SplittableRandom rng = new SplittableRandom(seed);
        int atLeast = 0;
        for (int p = 0; p < permutations; p++) {
            for (int i = idx.length - 1; i > 0; i--) { // Fisher–Yates
                int j = rng.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
            if (mmd2(kern, idx, m) >= observed) atLeast++;
        }
        return new Result(observed, sigma, (1.0 + atLeast) / (1.0 + permutations), permutations);
    }

    /** MMD²_u with the first m indices of {@code idx} as one sample and the rest as the other. */
    static double mmd2(double[][] k, int[] idx, int m) {
        int n = idx.length - m;
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) if (i != j) xx += k[idx[i]][idx[j]];
        for (int i = m; i < m + n; i++) for (int j = m; j < m + n; j++) if (i != j) yy += k[idx[i]][idx[j]];
        for (int i = 0; i < m; i++) for (int j = m; j < m + n; j++) xy += k[idx[i]][idx[j]];
        return xx / ((double) m * (m - 1)) + yy / ((double) n * (n - 1)) - 2 * xy / ((double) m * n);
    }

    /** Median of the distances between distinct points (numpy.median: the mean of the two middle values for an even count). */
    static double medianDistance(double[][] d2) {
        int n = d2.length;
        double[] d = new double[n * (n - 1) / 2];
        int c = 0;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) d[c++] = Math.sqrt(d2[i][j]);
        if (c == 0) return 0;
        Arrays.sort(d);
        return c % 2 == 1 ? d[c / 2] : (d[c / 2 - 1] + d[c / 2]) / 2;
    }
}
