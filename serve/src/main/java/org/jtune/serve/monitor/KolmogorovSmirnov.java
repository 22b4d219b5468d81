package org.jtune.serve.monitor;

import java.util.Arrays;

/**
 * Two-sample Kolmogorov–Smirnov test. D = sup_x |F_ref(x) − F_cur(x)| of the two empirical
 * distribution functions (scipy.stats.ks_2samp's statistic). The p-value is the asymptotic one,
 * P(K > √(nm/(n+m))·D) for the Kolmogorov distribution K (scipy.stats.kstwobign.sf); it is close to
 * the exact value for the sample sizes monitoring sees (hundreds and up) and errs large for tiny ones.
 */
public final class KolmogorovSmirnov {
    public record Result(double statistic, double pValue) {}

    private KolmogorovSmirnov() {}

    public static Result test(double[] a, double[] b) {
        double[] x = a.clone(), y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        int n = x.length, m = y.length;
        if (n == 0 || m == 0) return new Result(Double.NaN, Double.NaN);
        int i = 0, j = 0;
        double d = 0;
        while (i < n && j < m) {
            double v = Math.min(x[i], y[j]);
            while (i < n && x[i] <= v) i++;
            while (j < m && y[j] <= v) j++;
            d = Math.max(d, Math.abs((double) i / n - (double) j / m));
        }
        double en = (double) n * m / (n + m);
        return new Result(d, kolmogorovSf(Math.sqrt(en) * d));
    }

    /**
     * P(K > λ) for the Kolmogorov distribution: 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} for λ ≥ 1, and
     * 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)} below, where that series converges fast.
     */
    public static double kolmogorovSf(double lambda) {
        if (lambda <= 0) return 1;
        if (lambda < 1) {
            double s = 0;
            for (int k = 1; k <= 20; k++) s += Math.exp(-(2.0 * k - 1) * (2.0 * k - 1) * Math.PI * Math.PI / (8 * lambda * lambda));
            return Math.min(1, Math.max(0, 1 - Math.sqrt(2 * Math.PI) / lambda * s));
        }
        double s = 0;
        for (int k = 1; k <= 100; k++) {
            double t = Math.exp(-2.0 * k * k * lambda * lambda);
            s += (k % 2 == 1 ? t : -t);
            if (t < 1e-18) break;
        }
        return Math.min(1, Math.max(0, 2 * s));
    }
}
