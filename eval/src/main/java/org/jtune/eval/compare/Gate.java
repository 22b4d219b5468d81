package org.jtune.eval.compare;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.classification.ClassificationReport;
import org.jtune.eval.classification.ClassScore;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A release gate: a list of {@link GateRule}s read from YAML, either a top-level list or a mapping with a
 * {@code rules:} list, each item a rule string:
 * <pre>
 * rules:
 *   - accuracy >= 0.85
 *   - macro_f1.delta >= 0.05
 *   - class_f1.max_drop <= 0.1
 * </pre>
 * The gate passes when every rule passes; a rule that cannot be evaluated (unknown metric, baseline needed
 * but absent) is an ERROR and fails the gate. Every rule's outcome is listed.
 */
public record Gate(Path source, List<GateRule> rules) {

    public static Gate load(Path file) throws JtuneException {
        Node root;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new LoaderOptions()).compose(in);
        } catch (YAMLException e) {
            throw new JtuneException(file + ": not valid YAML: " + e.getMessage().replace('\n', ' '), e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read gate: " + e.getMessage(), e);
        }
        if (root instanceof MappingNode map) {
            Node rules = null;
            for (NodeTuple t : map.getValue()) {
                String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "";
                if (key.equals("rules")) rules = t.getValueNode();
                else throw new JtuneException(where(file, t.getKeyNode()) + ": unknown key '" + key + "'; expected 'rules'");
            }
            root = rules;
        }
        if (!(root instanceof SequenceNode seq)) {
            throw new JtuneException(file + ": a gate is a list of rules (or 'rules:' with a list), e.g. '- accuracy >= 0.85'");
        }
        List<GateRule> out = new ArrayList<>();
        for (Node item : seq.getValue()) {
            if (!(item instanceof ScalarNode s)) {
                throw new JtuneException(where(file, item) + ": each rule is one string like 'accuracy >= 0.85'");
            }
            out.add(GateRule.parse(s.getValue(), where(file, item)));
        }
        if (out.isEmpty()) throw new JtuneException(file + ": the gate has no rules");
        return new Gate(file, out);
    }

    private static String where(Path file, Node node) {
        return file + ":" + (node.getStartMark().getLine() + 1);
    }

    /** Evaluates every rule; {@code comparison} may be null when no baseline was given. */
    public GateResult evaluate(EvalResult candidate, Comparison comparison) {
        List<RuleOutcome> outcomes = new ArrayList<>();
        for (GateRule r : rules) outcomes.add(evaluate(r, candidate, comparison));
        boolean passed = outcomes.stream().allMatch(RuleOutcome::passed);
        return new GateResult(passed, outcomes);
    }

    private static RuleOutcome evaluate(GateRule r, EvalResult candidate, Comparison cmp) {
        if (r.needsBaseline() && cmp == null) {
            return new RuleOutcome(r.text(), RuleOutcome.Status.ERROR, null, "needs a baseline (--baseline)");
        }
        Double actual;
        if (r.metric().equals("class_f1")) {
            if (!(candidate.report() instanceof ClassificationReport cr)) {
                return new RuleOutcome(r.text(), RuleOutcome.Status.ERROR, null, "class_f1 applies to classification only");
            }
            if (r.aspect().equals("min")) {
                actual = cr.perClass().stream().mapToDouble(ClassScore::f1).min().orElse(0);
            } else {
                actual = cmp.classes().stream().mapToDouble(c -> c.baselineF1() - c.candidateF1()).max().orElse(0);
                actual = Math.max(0, actual);
            }
        } else if (!candidate.metrics().containsKey(r.metric())) {
            return new RuleOutcome(r.text(), RuleOutcome.Status.ERROR, null,
                    "unknown metric '" + r.metric() + "'; known: " + String.join(", ", candidate.metrics().keySet()));
        } else if (r.aspect().isEmpty()) {
            actual = candidate.metric(r.metric());
        } else if (r.aspect().equals("p_value")) {
            actual = cmp.mcnemar().pValue();
        } else {
            MetricDelta d = cmp.delta(r.metric());
            actual = switch (r.aspect()) {
                case "baseline" -> d.baseline();
                case "delta" -> d.delta();
                case "delta_low" -> d.ciLow();
                case "delta_high" -> d.ciHigh();
                default -> throw new IllegalStateException(r.aspect());
            };
        }
        boolean ok = r.op().test(actual, r.threshold());
        return new RuleOutcome(r.text(), ok ? RuleOutcome.Status.PASS : RuleOutcome.Status.FAIL, actual,
                String.format(java.util.Locale.ROOT, "%s = %.6g", r.metric() + (r.aspect().isEmpty() ? "" : "." + r.aspect()), actual));
    }
}
