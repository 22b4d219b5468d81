package org.jtune.eval.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Lcg;
import org.jtune.eval.Prediction;
import org.jtune.eval.classification.ClassificationEvaluator;
import org.jtune.eval.generation.GenerationEvaluator;
import org.junit.jupiter.api.Test;

class ComparisonTest {
    static List<Prediction> classify(long seed, int n, int rightOutOf10) {
        Lcg g = new Lcg(seed);
        Lcg truth = new Lcg(99);
        String[] labels = {"a", "b", "c"};
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String t = labels[truth.next(3)];
            String p = g.next(10) < rightOutOf10 ? t : labels[g.next(3)];
            out.add(Prediction.of("id" + i, "", t, p));
        }
        return out;
    }

    @Test
    void identicalSystemsHaveZeroDeltaAndInterval() throws JtuneException {
        List<Prediction> a = classify(1, 80, 7);
        Comparison c = Comparison.run(ClassificationEvaluator.fromExamples(), a, a, 200, 7);
        for (MetricDelta d : c.deltas()) {
            assertEquals(0, d.delta(), 0);
            assertEquals(0, d.ciLow(), 0);
            assertEquals(0, d.ciHigh(), 0);
        }
        assertEquals(1.0, c.mcnemar().pValue(), 0);
    }

    @Test
    void betterCandidateIsDetectedAndResultIsSeeded() throws JtuneException {
        List<Prediction> base = classify(1, 300, 5), cand = new ArrayList<>(classify(2, 300, 9));
        java.util.Collections.reverse(cand); // order does not matter: matched by id
        Comparison c = Comparison.run(ClassificationEvaluator.fromExamples(), base, cand, 500, 42);
        MetricDelta acc = c.delta("accuracy");
        assertTrue(acc.delta() > 0.2, "delta " + acc.delta());
        assertTrue(acc.ciLow() > 0 && acc.ciLow() < acc.delta() && acc.delta() < acc.ciHigh(), acc.toString());
        assertTrue(c.mcnemar().pValue() < 1e-6);
        assertEquals(3, c.classes().size());
        Comparison again = Comparison.run(ClassificationEvaluator.fromExamples(), base, cand, 500, 42);
        assertEquals(acc, again.delta("accuracy"));
        Comparison other = Comparison.run(ClassificationEvaluator.fromExamples(), base, cand, 500, 43);
        assertTrue(other.delta("accuracy").ciLow() != acc.ciLow() || other.delta("accuracy").ciHigh() != acc.ciHigh());
    }

    @Test
    void generationComparisonBootstrapsCorpusMetrics() throws JtuneException {
        List<Prediction> base = List.of(Prediction.of("1", "", "the cat sat on the mat", "a cat"),
                Prediction.of("2", "", "it is raining today", "it rains"), Prediction.of("3", "", "hello world", "hello"));
        List<Prediction> cand = List.of(Prediction.of("1", "", "the cat sat on the mat", "the cat sat on a mat"),
                Prediction.of("2", "", "it is raining today", "it is raining"), Prediction.of("3", "", "hello world", "hello world"));
        Comparison c = Comparison.run(GenerationEvaluator.create(true), base, cand, 300, 1);
        assertTrue(c.delta("bleu").delta() > 0);
        assertTrue(c.delta("rougeL_f").ciLow() > 0);
    }

    @Test
    void mismatchedExamplesAreBadInput() {
        List<Prediction> a = List.of(Prediction.of("1", "", "x", "x"), Prediction.of("2", "", "y", "y"));
        List<Prediction> b = List.of(Prediction.of("1", "", "x", "x"), Prediction.of("3", "", "y", "y"));
        JtuneException e = assertThrows(JtuneException.class, () -> Comparison.run(ClassificationEvaluator.fromExamples(), a, b, 10, 1));
        assertTrue(e.getMessage().contains("first: 3"), e.getMessage());
        List<Prediction> c = List.of(Prediction.of("1", "", "x", "x"), Prediction.of("2", "", "z", "y"));
        e = assertThrows(JtuneException.class, () -> Comparison.run(ClassificationEvaluator.fromExamples(), a, c, 10, 1));
        assertTrue(e.getMessage().contains("differs from the baseline"), e.getMessage());
    }

    @Test
    void quantileInterpolatesLikeNumpy() {
        double[] s = {1, 2, 3, 4};
        assertEquals(1.075, PairedBootstrap.quantile(s, 0.025), 1e-12); // numpy.percentile([1,2,3,4], 2.5)
        assertEquals(3.925, PairedBootstrap.quantile(s, 0.975), 1e-12);
        assertEquals(2.5, PairedBootstrap.quantile(s, 0.5), 1e-12);
    }
}
