package org.jtune.eval.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class McNemarTest {
    @Test
    void matchesStatsmodelsExactTest() {
        // statsmodels 0.13.5 mcnemar([[50, b], [c, 50]], exact=True).pvalue via bench/peers/eval_reference.py
        long[][] bc = {{0, 0}, {1, 0}, {3, 7}, {10, 2}, {25, 40}, {120, 90}, {400, 455}};
        double[] p = {1.0, 1.0, 0.34375, 0.03857421875, 0.08168153394154003, 0.0451140878648407, 0.06471883603762849};
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], McNemar.of(bc[i][0], bc[i][1]).pValue(), 1e-12 + 1e-9 * p[i], "b=" + bc[i][0] + " c=" + bc[i][1]);
        }
    }

    @Test
    void countsDisagreementsFromOutcomes() {
        boolean[] base = {true, true, false, false, true};
        boolean[] cand = {true, false, true, true, true};
        McNemar m = McNemar.of(base, cand);
        assertEquals(1, m.baselineOnly());
        assertEquals(2, m.candidateOnly());
        assertEquals(1.0, m.pValue(), 1e-15); // 2 * P[X <= 1], X ~ Bin(3, 1/2) = 2 * 0.5
    }
}
