package org.jtune.eval.human;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.eval.Lcg;
import org.junit.jupiter.api.Test;

/** Cohen's kappa (scikit-learn), Fleiss' kappa (statsmodels) and Krippendorff's alpha (published example). */
class AgreementReferenceTest {

    @Test
    void cohenKappaMatchesScikitLearn() {
        // sklearn 1.2.1 cohen_kappa_score via bench/peers/eval_reference.py, seeds 11, 12, 13
        long[] seeds = {11, 12, 13};
        double[] expected = {0.6186213070725157, 0.6253679421996253, 0.609504132231405};
        for (int s = 0; s < seeds.length; s++) {
            Lcg g = new Lcg(seeds[s]);
            int k = 2 + g.next(3), n = 20 + g.next(100);
            List<String> a = new ArrayList<>(), b = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int x = g.next(k);
                a.add("c" + x);
                b.add("c" + (g.next(3) > 0 ? x : g.next(k)));
            }
            assertEquals(expected[s], CohenKappa.of(a, b), 1e-12, "seed " + seeds[s]);
        }
    }

    @Test
    void fleissKappaMatchesStatsmodels() {
        // Wikipedia's worked example (14 raters, 10 subjects, 5 categories); statsmodels 0.13.5 fleiss_kappa
        long[][] wiki = {{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
                {7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7}};
        assertEquals(0.20993070442195522, FleissKappa.of(wiki), 1e-12);
        // random tables, seeds 21 and 22, statsmodels 0.13.5 via bench/peers/eval_reference.py
        long[] seeds = {21, 22};
        double[] expected = {-0.03274559193954652, 0.06316107585373226};
        for (int s = 0; s < seeds.length; s++) {
            Lcg g = new Lcg(seeds[s]);
            int raters = 3 + g.next(3), k = 3, n = 15 + g.next(20);
            long[][] table = new long[n][k];
            for (int i = 0; i < n; i++) for (int r = 0; r < raters; r++) table[i][g.next(k)]++;
            assertEquals(expected[s], FleissKappa.of(table), 1e-12, "seed " + seeds[s]);
        }
    }

    @Test
    void krippendorffAlphaMatchesPublishedNominalExample() {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
        // 12 units, missing values; nominal alpha = 0.743 (published to three decimals).
        String n = null;
        List<List<String>> r = List.of(
                Arrays.asList("1", "2", "3", "3", "2", "1", "4", "1", "2", n, n, n),
                Arrays.asList("1", "2", "3", "3", "2", "2", "4", "1", "2", "5", n, "3"),
                Arrays.asList(n, "3", "3", "3", "2", "3", "4", "2", "2", "5", "1", n),
                Arrays.asList("1", "2", "3", "3", "2", "4", "4", "1", "2", "5", "1", n));
        assertEquals(0.743, KrippendorffAlpha.nominal(r), 5e-4);
        assertEquals(1.0, KrippendorffAlpha.nominal(List.of(List.of("a", "b", "a"), List.of("a", "b", "a"))), 1e-15);
    }
}
