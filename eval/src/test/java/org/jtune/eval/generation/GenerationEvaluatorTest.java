package org.jtune.eval.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;
import org.junit.jupiter.api.Test;

class GenerationEvaluatorTest {
    @Test
    void combinesMetricsAndCountsEmptyAnswers() throws JtuneException {
        List<Prediction> ps = List.of(Prediction.of("1", "", "The cat sat.", "The cat sat."),
                Prediction.of("2", "", "Paris", "paris!"), Prediction.of("3", "", "testing one two", ""));
        EvalResult r = GenerationEvaluator.create(false).evaluate(ps);
        assertEquals(1.0 / 3, r.metric("exact_match"), 1e-15);
        assertEquals(2.0 / 3, r.metric("exact_match_normalized"), 1e-15);
        assertEquals(2.0 / 3, r.metric("rouge1_f"), 1e-15); // 1, 1, 0
        assertEquals(1, ((GenerationReport) r.report()).emptyPredictions());
        assertEquals(new Bleu().corpusScore(List.of("The cat sat.", "paris!", ""),
                List.of(List.of("The cat sat."), List.of("Paris"), List.of("testing one two"))), r.metric("bleu"), 1e-12);
        assertEquals(Chrf.defaults().corpusScore(List.of("The cat sat.", "paris!", ""),
                List.of(List.of("The cat sat."), List.of("Paris"), List.of("testing one two"))), r.metric("chrf"), 1e-12);
        assertEquals(r.metrics(), r.statistic().on(new int[] {0, 1, 2}));
        GenerationReport rep = (GenerationReport) r.report();
        assertEquals(3, rep.referenceWords().max());
        assertEquals(0, rep.predictionWords().min());
    }
}
