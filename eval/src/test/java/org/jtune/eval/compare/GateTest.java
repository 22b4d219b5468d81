package org.jtune.eval.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.classification.ClassificationEvaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GateTest {
    @TempDir
    Path dir;

    Path yaml(String text) throws Exception {
        Path p = dir.resolve("gate.yaml");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void evaluatesEveryRule() throws Exception {
        var base = ComparisonTest.classify(1, 200, 5);
        var cand = ComparisonTest.classify(2, 200, 9);
        Comparison cmp = Comparison.run(ClassificationEvaluator.fromExamples(), base, cand, 200, 3);
        Gate gate = Gate.load(yaml("""
                rules:
                  - accuracy >= 0.85
                  - macro_f1.delta >= 0.05
                  - class_f1.max_drop <= 0.1
                  - accuracy.p_value < 0.05
                  - accuracy.delta_low > 0
                  - class_f1.min >= 0.99
                  - bleu >= 1
                """));
        GateResult r = gate.evaluate(cmp.candidate(), cmp);
        assertEquals(7, r.outcomes().size());
        List<RuleOutcome.Status> s = r.outcomes().stream().map(RuleOutcome::status).toList();
        assertEquals(List.of(RuleOutcome.Status.PASS, RuleOutcome.Status.PASS, RuleOutcome.Status.PASS,
                RuleOutcome.Status.PASS, RuleOutcome.Status.PASS, RuleOutcome.Status.FAIL, RuleOutcome.Status.ERROR), s);
        assertFalse(r.passed());
        assertTrue(r.outcomes().get(6).message().contains("unknown metric 'bleu'"));
        assertEquals(cmp.candidate().metric("accuracy"), r.outcomes().get(0).actual(), 0);
    }

    @Test
    void rulesNeedingABaselineFailWithoutOne() throws Exception {
        EvalResult alone = ClassificationEvaluator.fromExamples().evaluate(ComparisonTest.classify(2, 50, 9));
        GateResult r = Gate.load(yaml("- accuracy > 0.5\n- accuracy.delta >= 0\n")).evaluate(alone, null);
        assertEquals(RuleOutcome.Status.PASS, r.outcomes().get(0).status());
        assertEquals(RuleOutcome.Status.ERROR, r.outcomes().get(1).status());
        assertFalse(r.passed());
        assertTrue(Gate.load(yaml("- accuracy > 0.5\n")).evaluate(alone, null).passed());
    }

    @Test
    void badGateFilesNameFileAndLine() throws Exception {
        JtuneException e = assertThrows(JtuneException.class, () -> Gate.load(yaml("rules:\n  - accuracy >= 0.85\n  - accuracy => 0.9\n")));
        assertTrue(e.getMessage().contains("gate.yaml:3"), e.getMessage());
        e = assertThrows(JtuneException.class, () -> Gate.load(yaml("- macro_f1.delat >= 0.1\n")));
        assertTrue(e.getMessage().contains("unknown aspect 'delat'"), e.getMessage());
        e = assertThrows(JtuneException.class, () -> Gate.load(yaml("threshold: 3\n")));
        assertTrue(e.getMessage().contains("gate.yaml:1: unknown key 'threshold'"), e.getMessage());
        e = assertThrows(JtuneException.class, () -> Gate.load(yaml("rules: [\n")));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        assertThrows(JtuneException.class, () -> Gate.load(yaml("[]\n")));
        assertThrows(JtuneException.class, () -> Gate.load(yaml("- class_f1 >= 0.5\n")));
    }
}
