package org.jtune.train.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of metrics.jsonl: the optimizer step, the (fractional) epoch, the seconds since the
 * run started, and named values in the order added. Standard names are the constants below;
 * eval metrics add their own ("eval_accuracy", …). A value may be NaN (a diverged loss).
 */
public record MetricsRow(long step, double epoch, double elapsed, Map<String, Double> values) {
    public static final String LOSS = "loss";
    public static final String VAL_LOSS = "val_loss";
    public static final String LR = "lr";
    public static final String GRAD_NORM = "grad_norm";
    public static final String TOKENS_PER_S = "tokens_per_s";

    /** The fields every row has; a value may not use these names. */
    static final java.util.Set<String> FIXED = java.util.Set.of("step", "epoch", "elapsed");

    public MetricsRow {
        for (String k : values.keySet()) {
            if (FIXED.contains(k)) throw new IllegalArgumentException("'" + k + "' is a fixed field of a metrics row, not a value");
        }
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static MetricsRow at(long step, double epoch, double elapsed) {
        return new MetricsRow(step, epoch, elapsed, Map.of());
    }

    /** A copy with {@code key} set to {@code value}. */
    public MetricsRow with(String key, double value) {
        Map<String, Double> v = new LinkedHashMap<>(values);
        v.put(key, value);
        return new MetricsRow(step, epoch, elapsed, v);
    }

    /** The value of {@code key}, or NaN when the row does not have it. */
    public double get(String key) {
        Double v = values.get(key);
        return v == null ? Double.NaN : v;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }
}
