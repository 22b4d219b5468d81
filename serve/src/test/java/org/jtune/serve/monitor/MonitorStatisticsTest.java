package org.jtune.serve.monitor;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Each drift and latency statistic against values computed once with SciPy 1.17.1 / NumPy 2.4.6
 * (Debian python3-scipy) by bench/peers/scipy/monitor_stats_reference.py, on inputs that script and
 * this test generate by the same formulas; plus the permutation p-value's behaviour, which a
 * different random generator cannot reproduce number for number.
 */
class MonitorStatisticsTest {
    static double[] a() {
        double[] a = new double[60];
        for (int i = 0; i < a.length; i++) a[i] = 10 + 5 * Math.sin(1.7 * i) + (i % 7);
        return a;
    }

    static double[] b() {
        double[] b = new double[45];
        for (int j = 0; j < b.length; j++) b[j] = 12 + 6 * Math.cos(0.9 * j) + (j % 5) * 0.5;
        return b;
    }

    @Test
    void quantilesMatchNumpyLinear() {
        assertEquals(12.81323203261621, Quantiles.of(a(), 0.50), 1e-12);
        assertEquals(19.042762009997244, Quantiles.of(a(), 0.95), 1e-12);
        assertEquals(20.7205433551014, Quantiles.of(a(), 0.99), 1e-12);
        assertEquals(3.0, Quantiles.of(new double[] {3}, 0.99));
        assertTrue(Double.isNaN(Quantiles.of(new double[0], 0.5)));
    }

    @Test
    void psiMatchesNumpyWithDecileBins() {
        assertArrayEquals(new long[] {4, 8, 0, 8, 4, 1, 0, 5, 11, 4}, Psi.counts(b(), Psi.edges(a(), 10)));
        assertEquals(1.7208581915961645, Psi.numeric(a(), b()), 1e-12);
        assertEquals(0.0, Psi.numeric(a(), a()), 1e-15);
        // categorical: hand-computed, (0.5-0.25)ln2 + (0.5-0.75)ln(2/3)
        assertEquals(0.25 * Math.log(2) - 0.25 * Math.log(2.0 / 3), Psi.categorical(Map.of("x", 1L, "y", 3L), Map.of("x", 2L, "y", 2L)), 1e-15);
    }

    @Test
    void ksMatchesScipy() {
        KolmogorovSmirnov.Result r = KolmogorovSmirnov.test(a(), b());
        assertEquals(0.15555555555555556, r.statistic(), 1e-15);
        assertEquals(0.5624504729024138, r.pValue(), 1e-12);
        double[][] sf = {{0.3, 0.9999906941986655}, {0.6, 0.8642827790506042}, {0.8, 0.5441424115741981}, {1.0, 0.26999967167735456},
                {1.2, 0.11224966667072497}, {2.5, 7.453306344157342e-06}};
        for (double[] c : sf) assertEquals(c[1], KolmogorovSmirnov.kolmogorovSf(c[0]), 1e-12 * Math.max(1e-3, c[1]), "kstwobign.sf(" + c[0] + ")");
        assertEquals(0.0, KolmogorovSmirnov.test(a(), a()).statistic());
    }

    @Test
    void chiSquareMatchesScipyContingency() {
        Map<String, Long> ref = new LinkedHashMap<>(), cur = new LinkedHashMap<>();
        String[] k = {"billing", "network", "access", "other"};
        long[] r = {40, 35, 25, 0}, c = {20, 30, 45, 5};
        for (int i = 0; i < k.length; i++) {
            ref.put(k[i], r[i]);
            cur.put(k[i], c[i]);
        }
        ChiSquare.Result x = ChiSquare.homogeneity(ref, cur);
        assertEquals(17.765567765567766, x.statistic(), 1e-12);
        assertEquals(3, x.dof());
        assertEquals(0.0004916303383412742, x.pValue(), 1e-15);
        double[][] q = {{0.5, 0.2, 0.5270892568655381}, {1.5, 3.0, 0.11161022509471268}, {4.0, 2.0, 0.857123460498547},
                {10.0, 25.0, 0.0002214766382487835}, {2.5, 40.0, 8.391825114831597e-16}};
        for (double[] t : q) assertEquals(t[2], Gamma.regularizedUpper(t[0], t[1]), 1e-12 * t[2], "gammaincc(" + t[0] + ", " + t[1] + ")");
    }

    static float[][] x() {
        float[][] x = new float[20][4];
        for (int i = 0; i < 20; i++) for (int k = 0; k < 4; k++) x[i][k] = (float) Math.sin(i * 0.7 + k * 1.3);
        return x;
    }

    static float[][] y() {
        float[][] y = new float[25][4];
        for (int j = 0; j < 25; j++) for (int k = 0; k < 4; k++) y[j][k] = (float) (Math.cos(j * 0.5 + k * 0.8) + 0.3);
        return y;
    }

    @Test
    void mmdAndCentroidMatchNumpy() {
        // the reference used float64 inputs; ours are float32, hence 1e-6
        Mmd.Result r = Mmd.test(x(), y(), 0, 0, 1);
        assertEquals(2.008522950306294, r.sigma(), 1e-6);
        assertEquals(0.029567737333237254, r.mmd2(), 1e-6);
        CentroidShift c = CentroidShift.of(x(), y());
        assertEquals(0.7863146395218866, c.cosineDistance(), 1e-6);
        assertEquals(0.4137809620129852, c.relativeDistance(), 1e-6);
    }

    @Test
    void permutationPValueIsSmallForShiftedSamplesAndNotForSameDistribution() {
        SplittableRandom rng = new SplittableRandom(5);
        float[][] ref = gaussian(rng, 60, 8, 0), same = gaussian(rng, 60, 8, 0), shifted = gaussian(rng, 60, 8, 0.8);
        Mmd.Result h0 = Mmd.test(ref, same, 0, 200, 1), h1 = Mmd.test(ref, shifted, 0, 200, 1);
        assertTrue(h0.pValue() > 0.05, "same distribution: " + h0);
        assertTrue(h1.pValue() < 0.01, "shifted by 0.8 sd in every dimension: " + h1);
        assertEquals(1.0 / 201, h1.pValue(), 1e-12, "no permutation reaches the observed MMD");
        assertEquals(h0, Mmd.test(ref, same, 0, 200, 1), "same seed, same p-value");
    }

    static float[][] gaussian(SplittableRandom rng, int n, int d, double mean) {
        float[][] v = new float[n][d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                double u1 = rng.nextDouble(), u2 = rng.nextDouble();
                v[i][k] = (float) (mean + Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)); // Box–Muller
            }
        }
        return v;
    }
}
