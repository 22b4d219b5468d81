package org.jtune.eval;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one {@link Evaluator} run. {@code metrics} is the flat map of headline numbers (names use
 * only letters, digits and '_', e.g. {@code accuracy}, {@code macro_f1}, {@code rougeL_f}, {@code bleu});
 * gates and comparisons address metrics by these names. {@code report} carries the task's detail.
 * {@code ids} lists the examples in evaluation order; {@code correct} says per example whether the answer
 * counts as right (classification: label correct; generation: exact match; extraction: whole object
 * correct), for McNemar's test. {@code statistic} recomputes {@code metrics} on a resample.
 */
public record EvalResult(Task task, List<String> ids, Map<String, Double> metrics, TaskReport report,
                         boolean[] correct, SampleStatistic statistic) {
    public EvalResult {
        ids = List.copyOf(ids);
        metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
    }

    public int size() {
        return ids.size();
    }

    public double metric(String name) {
        Double v = metrics.get(name);
        if (v == null) throw new IllegalArgumentException("no metric " + name + " in " + metrics.keySet());
        return v;
    }
}
