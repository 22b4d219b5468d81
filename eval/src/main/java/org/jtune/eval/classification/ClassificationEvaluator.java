package org.jtune.eval.classification;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;

/**
 * Scores answers against a closed label set. The set is, in order of precedence: the labels given to the
 * builder (a --labels file) together with every example's {@code label_set}; else the union of the
 * examples' {@code label_set}s; else the sorted set of references. An answer is normalised
 * ({@link LabelNormalizer}) and mapped onto its example's label set when it has one, else onto the global
 * set; an answer that maps onto nothing (or is empty) is invalid and counts as wrong. A reference outside
 * the set is bad input: {@link JtuneException} naming the example's file:line.
 */
public final class ClassificationEvaluator implements Evaluator {
    private static final int KEPT_INVALID = 20;
    private final List<String> labels;

    private ClassificationEvaluator(List<String> labels) {
        this.labels = labels == null ? List.of() : List.copyOf(labels);
    }

    /** An evaluator that takes its label set from the examples. */
    public static ClassificationEvaluator fromExamples() {
        return new ClassificationEvaluator(List.of());
    }

    /** An evaluator with an explicit label set (examples' own label sets are added to it). */
    public static ClassificationEvaluator withLabels(List<String> labels) {
        return new ClassificationEvaluator(labels);
    }

    @Override
    public Task task() {
        return Task.CLASSIFICATION;
    }

    /** The label set these examples are scored against (see the class comment). */
    public LabelSet labelSet(List<Prediction> predictions) throws JtuneException {
        List<String> all = new ArrayList<>(labels);
        for (Prediction p : predictions) all.addAll(p.labelSet());
        if (!all.isEmpty()) return LabelSet.of(all, labels.isEmpty() ? "label_set" : "labels");
        TreeSet<String> refs = new TreeSet<>();
        for (Prediction p : predictions) {
            if (p.reference().isBlank()) throw new JtuneException(p.where() + ": empty reference");
            refs.add(p.reference().strip());
        }
        return LabelSet.of(new ArrayList<>(refs), "references");
    }

    @Override
    public EvalResult evaluate(List<Prediction> predictions) throws JtuneException {
        if (predictions.isEmpty()) throw new JtuneException("no predictions to score");
        LabelSet set = labelSet(predictions);
        int n = predictions.size(), k = set.size();
        int[] truth = new int[n], answer = new int[n];
        boolean[] correct = new boolean[n];
        List<String> ids = new ArrayList<>(n);
        List<InvalidAnswer> invalidKept = new ArrayList<>();
        long empty = 0;
        for (int i = 0; i < n; i++) {
            Prediction p = predictions.get(i);
            ids.add(p.id());
            truth[i] = set.indexOf(p.reference());
            if (truth[i] < 0) {
                throw new JtuneException(p.where() + ": reference '" + p.reference() + "' is not in the label set "
                        + set.labels() + "; add it to the labels or fix the reference");
            }
            if (!p.labelSet().isEmpty()) {
                LabelSet local = LabelSet.of(p.labelSet(), p.where() + " label_set");
                if (local.indexOf(p.reference()) < 0) {
                    throw new JtuneException(p.where() + ": reference '" + p.reference()
                            + "' is not in this example's label_set " + p.labelSet());
                }
                int j = local.indexOf(p.prediction());
                answer[i] = j < 0 ? -1 : set.indexOf(local.labels().get(j));
            } else {
                answer[i] = set.indexOf(p.prediction());
            }
            if (p.prediction().isBlank()) empty++;
            if (answer[i] < 0 && invalidKept.size() < KEPT_INVALID) {
                invalidKept.add(new InvalidAnswer(p.id(), p.where(), p.prediction(), p.reference()));
            }
            correct[i] = answer[i] == truth[i];
        }
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        ConfusionMatrix cm = ConfusionMatrix.of(k, truth, answer, all);
        ClassificationReport report = new ClassificationReport(set.labels(), cm.perClass(set.labels()), cm.table(),
                cm.invalid(), empty, invalidKept);
        return new EvalResult(Task.CLASSIFICATION, ids, cm.metrics(), report, correct,
                idx -> ConfusionMatrix.of(k, truth, answer, idx).metrics());
    }
}
