package org.jtune.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jtune.eval.EvalResult;
import org.jtune.eval.compare.ClassDelta;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.GateResult;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.eval.compare.RuleOutcome;

/**
 * The metrics object (metrics.json, and the line {@code jtune eval --json} prints):
 * <pre>
 * {"task": "classification", "n": 120, "metrics": {"accuracy": 0.9, ...}, "report": {...task detail...},
 *  "comparison": {"baseline": {...metrics}, "resamples": 1000, "seed": 12345, "level": 0.95,
 *                 "deltas": [{"metric", "baseline", "candidate", "delta", "ci_low", "ci_high"}...],
 *                 "mcnemar": {"baseline_only", "candidate_only", "p_value"}, "classes": [...]},
 *  "gate": {"passed": true, "rules": [{"rule", "status", "actual", "message"}...]}}
 * </pre>
 * "comparison" and "gate" appear only when a baseline or a gate was given. NaN is written as the string "NaN".
 */
public final class MetricsJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MetricsJson() {
    }

    public static ObjectNode of(EvalResult result, Comparison comparison, GateResult gate) {
        ObjectNode o = JSON.createObjectNode();
        o.put("task", result.task().id());
        o.put("n", result.size());
        ObjectNode m = o.putObject("metrics");
        result.metrics().forEach(m::put);
        o.set("report", JSON.valueToTree(result.report()));
        if (comparison != null) {
            ObjectNode c = o.putObject("comparison");
            ObjectNode b = c.putObject("baseline");
            comparison.baseline().metrics().forEach(b::put);
            c.put("resamples", comparison.resamples());
            c.put("seed", comparison.seed());
            c.put("level", comparison.level());
            ArrayNode deltas = c.putArray("deltas");
            for (MetricDelta d : comparison.deltas()) {
                deltas.addObject().put("metric", d.metric()).put("baseline", d.baseline()).put("candidate", d.candidate())
                        .put("delta", d.delta()).put("ci_low", d.ciLow()).put("ci_high", d.ciHigh());
            }
            c.putObject("mcnemar").put("baseline_only", comparison.mcnemar().baselineOnly())
                    .put("candidate_only", comparison.mcnemar().candidateOnly())
                    .put("p_value", comparison.mcnemar().pValue());
            ArrayNode classes = c.putArray("classes");
            for (ClassDelta d : comparison.classes()) {
                classes.addObject().put("label", d.label()).put("baseline_f1", d.baselineF1())
                        .put("candidate_f1", d.candidateF1()).put("support", d.support());
            }
        }
        if (gate != null) {
            ObjectNode g = o.putObject("gate");
            g.put("passed", gate.passed());
            ArrayNode rules = g.putArray("rules");
            for (RuleOutcome r : gate.outcomes()) {
                ObjectNode ro = rules.addObject().put("rule", r.rule()).put("status", r.status().name());
                if (r.actual() == null) ro.putNull("actual");
                else ro.put("actual", r.actual());
                ro.put("message", r.message());
            }
        }
        return o;
    }

    public static String line(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pretty(ObjectNode node) {
        try {
            return JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
