package org.jtune.serve.monitor;

/**
 * The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 − P(a, x): the series
 * P = e^{−x} x^a / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n)) for x &lt; a+1, else Legendre's continued fraction
 * for Q evaluated by the modified Lentz method (Press et al., Numerical Recipes, 3rd ed., §6.2).
 * ln Γ by the Lanczos approximation (g = 7, n = 9 coefficients), relative error below 1e-14.
 */
public final class Gamma {
    private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};

    private Gamma() {}

    public static double logGamma(double x) {
        if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x); // reflection
        x -= 1;
        double a = LANCZOS[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }

    /** Q(a, x) = Γ(a, x) / Γ(a). */
    public static double regularizedUpper(double a, double x) {
        if (x <= 0) return 1;
        if (x < a + 1) return 1 - series(a, x);
        return continuedFraction(a, x);
    }

    private static double series(double a, double x) {
        double sum = 1 / a, term = sum, ap = a;
        for (int n = 0; n < 10_000; n++) {
            ap += 1;
            term *= x / ap;
            sum += term;
            if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
        }
        return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
    }

    private static double continuedFraction(double a, double x) {
        final double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10_000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
    }
}
