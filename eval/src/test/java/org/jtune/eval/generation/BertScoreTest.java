package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * BERTScore's matching and idf on hand-computed cases (the definitions of Zhang et al. 2020 and bert_score's
 * greedy_cos_idf and get_idf_dict, worked out on paper).
 */
class BertScoreTest {
    private static final double EPS = 1e-12;

    @Test
    void greedyCosineMatchingOnAHandComputedPair() {
        // candidate: start (0, 1) — weight 0 —, a = (1, 0), b = (1, 1); reference: start (0, 1), c = (3, 4)
        float[][] cand = {{0, 1}, {1, 0}, {1, 1}};
        float[][] ref = {{0, 1}, {3, 4}};
        BertScore.Score s = BertScore.score(cand, new double[] {0, 1, 1}, ref, new double[] {0, 1});
        // cos(a, start) = 0, cos(a, c) = 0.6; cos(b, start) = 1/√2, cos(b, c) = 7/(5√2)
        double bestA = 0.6, bestB = 7 / (5 * Math.sqrt(2));
        // reference token c: cos(c, start) = 0.8, cos(c, a) = 0.6, cos(c, b) = 7/(5√2) ≈ 0.98995
        double p = (bestA + bestB) / 2, r = bestB;
        assertEquals(p, s.precision(), EPS);
        assertEquals(r, s.recall(), EPS);
        assertEquals(2 * p * r / (p + r), s.f1(), EPS);
        // weighted: a counts 3, b counts 1 (the start, weight 0, still matches: c's best would be 0.8 without b)
        BertScore.Score w = BertScore.score(cand, new double[] {0, 3, 1}, ref, new double[] {0, 2});
        assertEquals((3 * bestA + bestB) / 4, w.precision(), EPS);
        assertEquals(bestB, w.recall(), EPS);
        BertScore.Score startMatch = BertScore.score(new float[][] {{0, 1}, {1, 0}}, new double[] {0, 1}, new float[][] {{0, 1}, {3, 4}},
                new double[] {0, 1});
        assertEquals(0.8, startMatch.recall(), EPS, "c's best match is the candidate's start token");
    }

    @Test
    void anEmptyTextScoresZeroAndAnIdenticalOneScoresOne() {
        float[][] text = {{0.5f, -1, 2}, {1, 2, 3}, {-4, 0, 1}};
        BertScore.Score same = BertScore.score(text, new double[] {0, 1, 1}, text, new double[] {0, 2, 5});
        assertEquals(1, same.precision(), 1e-9);
        assertEquals(1, same.recall(), 1e-9);
        assertEquals(1, same.f1(), 1e-9);
        BertScore.Score empty = BertScore.score(new float[][] {{0.5f, -1, 2}}, new double[] {0}, text, new double[] {0, 1, 1});
        assertEquals(0, empty.precision());
        assertEquals(0, empty.f1(), "bert_score fills the NaN of an empty candidate with 0");
        BertScore.Score opposite = BertScore.score(new float[][] {{0, 0, 1}, {1, 0, 0}}, new double[] {0, 1}, new float[][] {{0, 0, 1}, {-1, 0, 0}},
                new double[] {0, 1});
        assertEquals(0, opposite.precision(), EPS, "best match of (1,0,0) is the start, at cosine 0");
        assertEquals(0, opposite.f1(), "F1 of 0 and 0 is 0, not NaN");
    }

    @Test
    void idfIsLogOfReferencesPlusOneOverDocumentFrequencyPlusOne() {
        Map<Integer, Double> idf = BertScore.idf(List.of(new int[] {1, 2, 2, 3}, new int[] {2, 4}));
        assertEquals(Math.log(3.0 / 2), idf.get(1), EPS);
        assertEquals(0, idf.get(2), EPS, "in every reference (twice in one counts once)");
        assertEquals(Math.log(3.0 / 2), idf.get(4), EPS);
        assertEquals(Math.log(3), BertScore.idfOf(idf, 99, 2), EPS, "a token no reference holds");
    }
}
