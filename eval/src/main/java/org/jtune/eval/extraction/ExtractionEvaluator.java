package org.jtune.eval.extraction;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;

/**
 * Scores structured answers. The reference must be a JSON object (bad input otherwise, naming file:line);
 * the answer should be one. Metrics: {@code valid_json} (answer parses to a JSON object), {@code
 * required_fields} (all required fields present; required = the example's {@code required_fields}, else the
 * evaluator's, else every field of the reference), {@code field_accuracy} (over all (example, reference
 * field) pairs, value equal as {@link JsonAnswer#same}), {@code exact_match} (every reference field right).
 * An answer that is not a JSON object gets every field wrong.
 */
public final class ExtractionEvaluator implements Evaluator {
    private static final int KEPT_INVALID = 20;
    private final List<String> required;

    private ExtractionEvaluator(List<String> required) {
        this.required = List.copyOf(required);
    }

    public static ExtractionEvaluator create() {
        return new ExtractionEvaluator(List.of());
    }

    public static ExtractionEvaluator requiring(List<String> fields) {
        return new ExtractionEvaluator(fields);
    }

    @Override
    public Task task() {
        return Task.EXTRACTION;
    }

    @Override
    public EvalResult evaluate(List<Prediction> predictions) throws JtuneException {
        if (predictions.isEmpty()) throw new JtuneException("no predictions to score");
        int n = predictions.size();
        double[][] per = new double[n][5]; // valid, requiredOk, fieldsRight, fieldsTotal, allRight
        boolean[] correct = new boolean[n];
        List<String> ids = new ArrayList<>(n);
        Map<String, long[]> fields = new LinkedHashMap<>(); // expected, present, correct
        List<String> invalidKept = new ArrayList<>();
        long invalid = 0;
        for (int i = 0; i < n; i++) {
            Prediction p = predictions.get(i);
            ids.add(p.id());
            JsonNode ref = JsonAnswer.parse(p.reference());
            if (ref == null || !ref.isObject()) {
                throw new JtuneException(p.where() + ": reference must be a JSON object for extraction, got: "
                        + abbreviate(p.reference()));
            }
            JsonNode ans = JsonAnswer.parse(p.prediction());
            boolean valid = ans != null && ans.isObject();
            if (!valid) {
                invalid++;
                if (invalidKept.size() < KEPT_INVALID) invalidKept.add(p.where() + ": " + abbreviate(p.prediction()));
            }
            List<String> req = !p.requiredFields().isEmpty() ? p.requiredFields()
                    : !required.isEmpty() ? required : fieldNames(ref);
            boolean reqOk = valid;
            for (String f : req) reqOk &= valid && ans.has(f);
            int right = 0, total = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = ref.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                long[] c = fields.computeIfAbsent(e.getKey(), k -> new long[3]);
                c[0]++;
                total++;
                if (valid && ans.has(e.getKey())) {
                    c[1]++;
                    if (JsonAnswer.same(e.getValue(), ans.get(e.getKey()))) {
                        c[2]++;
                        right++;
                    }
                }
            }
            correct[i] = valid && right == total;
            per[i] = new double[] {valid ? 1 : 0, reqOk ? 1 : 0, right, total, correct[i] ? 1 : 0};
        }
        List<FieldScore> fieldScores = new ArrayList<>();
        for (var e : fields.entrySet()) {
            long[] c = e.getValue();
            fieldScores.add(new FieldScore(e.getKey(), c[0], c[1], c[2], c[0] == 0 ? 0 : (double) c[2] / c[0]));
        }
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        return new EvalResult(Task.EXTRACTION, ids, metrics(per, all),
                new ExtractionReport(fieldScores, invalid, invalidKept), correct, idx -> metrics(per, idx));
    }

    private static Map<String, Double> metrics(double[][] per, int[] idx) {
        double[] s = new double[5];
        for (int i : idx) for (int j = 0; j < 5; j++) s[j] += per[i][j];
        int n = Math.max(idx.length, 1);
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("valid_json", s[0] / n);
        m.put("required_fields", s[1] / n);
        m.put("field_accuracy", s[3] == 0 ? 0 : s[2] / s[3]);
        m.put("exact_match", s[4] / n);
        return m;
    }

    private static List<String> fieldNames(JsonNode obj) {
        List<String> out = new ArrayList<>();
        obj.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static String abbreviate(String s) {
        String t = s.replace('\n', ' ');
        return t.length() > 80 ? t.substring(0, 77) + "..." : t;
    }
}
