package org.jtune.eval.compare;

/**
 * McNemar's exact test for paired binary outcomes (as statsmodels' {@code mcnemar(table, exact=True)}):
 * with b = baseline right / candidate wrong and c = baseline wrong / candidate right, the two-sided p-value
 * is min(1, 2 * P[X <= min(b, c)]) for X ~ Binomial(b + c, 1/2). The binomial tail is summed in log space,
 * so it stays accurate for large b + c.
 */
public record McNemar(long baselineOnly, long candidateOnly, double pValue) {

    public static McNemar of(boolean[] baselineCorrect, boolean[] candidateCorrect) {
        long b = 0, c = 0;
        for (int i = 0; i < baselineCorrect.length; i++) {
            if (baselineCorrect[i] && !candidateCorrect[i]) b++;
            if (!baselineCorrect[i] && candidateCorrect[i]) c++;
        }
        return of(b, c);
    }

    public static McNemar of(long b, long c) {
        return new McNemar(b, c, Math.min(1.0, 2 * binomialCdfHalf(Math.min(b, c), b + c)));
    }

    /** P[X <= k] for X ~ Binomial(n, 1/2). */
    static double binomialCdfHalf(long k, long n) {
        if (k >= n) return 1.0;
        double logTerm = -n * Math.log(2); // log C(n, 0) / 2^n
        double max = logTerm, sum = 0;
        double[] logs = new double[(int) k + 1];
        logs[0] = logTerm;
        for (long i = 1; i <= k; i++) {
            logTerm += Math.log((double) (n - i + 1) / i);
            logs[(int) i] = logTerm;
            max = Math.max(max, logTerm);
        }
        for (double l : logs) sum += Math.exp(l - max);
        return Math.min(1.0, Math.exp(max) * sum);
    }
}
