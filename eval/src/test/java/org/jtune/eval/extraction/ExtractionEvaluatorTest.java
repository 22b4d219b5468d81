package org.jtune.eval.extraction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;
import org.junit.jupiter.api.Test;

class ExtractionEvaluatorTest {
    @Test
    void scoresValidityRequiredFieldsAndFieldAccuracy() throws JtuneException {
        String ref = "{\"name\": \"Ada\", \"age\": 36, \"tags\": [\"x\"]}";
        List<Prediction> ps = List.of(
                Prediction.of("1", "", ref, "```json\n{\"name\": \" ada \", \"age\": 36.0, \"tags\": [\"X\"]}\n```"),
                Prediction.of("2", "", ref, "{\"name\": \"Ada\", \"age\": 37}"),
                Prediction.of("3", "", ref, "name: Ada"),
                Prediction.of("4", "", ref, "[1, 2]"));
        EvalResult r = ExtractionEvaluator.create().evaluate(ps);
        assertEquals(0.5, r.metric("valid_json"), 1e-15);
        assertEquals(0.25, r.metric("required_fields"), 1e-15); // only the first has all three
        assertEquals(4.0 / 12, r.metric("field_accuracy"), 1e-15); // 3 + 1 of 12
        assertEquals(0.25, r.metric("exact_match"), 1e-15);
        ExtractionReport rep = (ExtractionReport) r.report();
        assertEquals(2, rep.invalidJson());
        FieldScore age = rep.fields().get(1);
        assertEquals("age", age.field());
        assertEquals(2, age.present());
        assertEquals(1, age.correct());
        EvalResult req = ExtractionEvaluator.requiring(List.of("name")).evaluate(ps);
        assertEquals(0.5, req.metric("required_fields"), 1e-15);
    }

    @Test
    void referenceMustBeAnObject() {
        JtuneException e = assertThrows(JtuneException.class, () -> ExtractionEvaluator.create().evaluate(
                List.of(new Prediction("1", "", "not json", "{}", List.of(), List.of(), "x.jsonl:4"))));
        assertTrue(e.getMessage().startsWith("x.jsonl:4: reference must be a JSON object"), e.getMessage());
    }
}
