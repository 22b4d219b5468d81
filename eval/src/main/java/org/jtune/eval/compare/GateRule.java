package org.jtune.eval.compare;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jtune.JtuneException;

/**
 * One gate condition, written {@code <metric>[.<aspect>] <op> <number>}, e.g. {@code accuracy >= 0.85},
 * {@code macro_f1.delta >= 0.05}, {@code class_f1.max_drop <= 0.1}. Operators: >=, >, <=, <, ==.
 * Aspects of a metric: none (the candidate's value), {@code baseline}, {@code delta} (candidate - baseline),
 * {@code delta_low} / {@code delta_high} (bootstrap interval bounds), {@code p_value} (McNemar; for the
 * accuracy-like metric of the task). The pseudo-metric {@code class_f1} (classification) has
 * {@code max_drop} (largest baseline - candidate per-class F1 drop, 0 when none dropped) and {@code min}
 * (the candidate's lowest per-class F1).
 */
public record GateRule(String text, String metric, String aspect, Op op, double threshold, String where) {
    private static final Pattern SYNTAX = Pattern.compile(
            "^\\s*([A-Za-z][A-Za-z0-9_]*)(?:\\.([A-Za-z_]+))?\\s*(>=|<=|==|>|<)\\s*([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*$");
    static final java.util.Set<String> ASPECTS = java.util.Set.of("", "baseline", "delta", "delta_low", "delta_high",
            "p_value", "max_drop", "min");

    public enum Op {
        GE(">="), GT(">"), LE("<="), LT("<"), EQ("==");

        final String symbol;

        Op(String symbol) {
            this.symbol = symbol;
        }

        static Op of(String s) {
            for (Op o : values()) if (o.symbol.equals(s)) return o;
            throw new IllegalArgumentException(s);
        }

        public boolean test(double actual, double threshold) {
            return switch (this) {
                case GE -> actual >= threshold;
                case GT -> actual > threshold;
                case LE -> actual <= threshold;
                case LT -> actual < threshold;
                case EQ -> Math.abs(actual - threshold) <= 1e-12;
            };
        }
    }

    public static GateRule parse(String text, String where) throws JtuneException {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new JtuneException(where + ": cannot read gate rule '" + text
                    + "'; write it as <metric>[.<aspect>] <op> <number>, e.g. 'macro_f1.delta >= 0.05'");
        }
        String aspect = m.group(2) == null ? "" : m.group(2);
        if (!ASPECTS.contains(aspect)) {
            throw new JtuneException(where + ": unknown aspect '" + aspect + "' in '" + text
                    + "'; use baseline, delta, delta_low, delta_high, p_value, or for class_f1 max_drop, min");
        }
        if (m.group(1).equals("class_f1") != (aspect.equals("max_drop") || aspect.equals("min"))) {
            throw new JtuneException(where + ": '" + text + "': max_drop and min apply to class_f1 only, "
                    + "and class_f1 needs one of them");
        }
        return new GateRule(text.strip(), m.group(1), aspect, Op.of(m.group(3)), Double.parseDouble(m.group(4)), where);
    }

    public boolean needsBaseline() {
        return !aspect.isEmpty() && !aspect.equals("min");
    }
}
