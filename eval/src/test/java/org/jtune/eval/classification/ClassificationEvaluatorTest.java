package org.jtune.eval.classification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;
import org.junit.jupiter.api.Test;

class ClassificationEvaluatorTest {
    static Prediction p(String id, String ref, String pred) {
        return Prediction.of(id, "", ref, pred);
    }

    @Test
    void normalisesAnswersAndCountsInvalidOnes() throws JtuneException {
        List<Prediction> ps = List.of(p("1", "positive", "  Positive."), p("2", "negative", "`NEGATIVE`"),
                p("3", "negative", "positive!"), p("4", "positive", "I think positive"), p("5", "positive", ""));
        EvalResult r = ClassificationEvaluator.fromExamples().evaluate(ps);
        ClassificationReport rep = (ClassificationReport) r.report();
        assertEquals(List.of("negative", "positive"), rep.labels()); // sorted references
        assertEquals(0.4, r.metric("accuracy"), 1e-15);
        assertEquals(2, rep.invalid());
        assertEquals(1, rep.empty());
        assertEquals(0.4, r.metric("invalid_rate"), 1e-15);
        // rows: true negative, true positive; columns: negative, positive, invalid
        assertArrayEquals(new long[] {1, 1, 0}, rep.confusion()[0]);
        assertArrayEquals(new long[] {0, 1, 2}, rep.confusion()[1]);
        assertEquals("I think positive", rep.invalidExamples().get(0).answer());
        // positive: tp 1, predicted 2, support 3 -> p 0.5, r 1/3
        ClassScore pos = rep.perClass().get(1);
        assertEquals(0.5, pos.precision(), 1e-15);
        assertEquals(1.0 / 3, pos.recall(), 1e-15);
        assertEquals(3, pos.support());
        assertArrayEquals(new boolean[] {true, true, false, false, false}, r.correct());
    }

    @Test
    void perExampleLabelSetsAndExplicitLabels() throws JtuneException {
        List<Prediction> ps = new ArrayList<>();
        ps.add(p("1", "a", "b").withLabelSet(List.of("a", "b")));
        ps.add(p("2", "c", "c").withLabelSet(List.of("a", "c")));
        ps.add(p("3", "a", "c").withLabelSet(List.of("a", "b"))); // c is a label, but not of this example: invalid
        EvalResult r = ClassificationEvaluator.fromExamples().evaluate(ps);
        ClassificationReport rep = (ClassificationReport) r.report();
        assertEquals(List.of("a", "b", "c"), rep.labels());
        assertEquals(1, rep.invalid());
        EvalResult withFile = ClassificationEvaluator.withLabels(List.of("c", "b", "a", "d")).evaluate(
                List.of(p("1", "a", "a"), p("2", "b", "d")));
        assertEquals(List.of("c", "b", "a", "d"), ((ClassificationReport) withFile.report()).labels());
        assertEquals(0.5, withFile.metric("accuracy"), 1e-15);
        assertEquals(0.0, withFile.metric("invalid_rate"), 1e-15);
    }

    @Test
    void badInput() {
        JtuneException e = assertThrows(JtuneException.class, () -> ClassificationEvaluator.withLabels(List.of("a", "b"))
                .evaluate(List.of(new Prediction("7", "", "zzz", "a", List.of(), List.of(), "preds.jsonl:7"))));
        assertTrue(e.getMessage().startsWith("preds.jsonl:7: reference 'zzz' is not in the label set"), e.getMessage());
        e = assertThrows(JtuneException.class, () -> ClassificationEvaluator.withLabels(List.of("Yes", "yes.")).evaluate(List.of(p("1", "Yes", "yes"))));
        assertTrue(e.getMessage().contains("same after normalisation"), e.getMessage());
        assertThrows(JtuneException.class, () -> ClassificationEvaluator.fromExamples().evaluate(List.of()));
        assertThrows(JtuneException.class, () -> ClassificationEvaluator.fromExamples().evaluate(List.of(p("1", " ", "a"))));
    }

    @Test
    void resampleOfAllIndicesReproducesMetrics() throws JtuneException {
        List<Prediction> ps = List.of(p("1", "x", "x"), p("2", "y", "x"), p("3", "y", "y"), p("4", "z", "?"));
        EvalResult r = ClassificationEvaluator.fromExamples().evaluate(ps);
        assertEquals(r.metrics(), r.statistic().on(new int[] {0, 1, 2, 3}));
        assertEquals(1.0, r.statistic().on(new int[] {0, 0, 2}).get("accuracy"), 0);
    }
}
