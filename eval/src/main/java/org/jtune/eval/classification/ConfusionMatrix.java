package org.jtune.eval.classification;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts of (true label, answered label) over K labels plus one extra column for invalid answers (outside
 * the label set). From it: accuracy (invalid counts as wrong) and per-class precision, recall, F1 and support
 * with macro, micro and support-weighted averages. The definitions are scikit-learn's
 * {@code precision_recall_fscore_support(y_true, y_pred, labels=label_set, zero_division=0)}: an invalid
 * answer is a false negative for its true class and a false positive for none; every label of the set
 * counts in the macro average, even one without support.
 */
public final class ConfusionMatrix {
    private final int k;
    private final long[][] counts; // [true][answer], answer == k means invalid

    public ConfusionMatrix(int labels) {
        this.k = labels;
        this.counts = new long[labels][labels + 1];
    }

    /** Builds the matrix from label indices; {@code answer[i] < 0} marks an invalid answer. */
    public static ConfusionMatrix of(int labels, int[] truth, int[] answer, int[] indices) {
        ConfusionMatrix m = new ConfusionMatrix(labels);
        for (int i : indices) m.add(truth[i], answer[i]);
        return m;
    }

    public void add(int truth, int answer) {
        counts[truth][answer < 0 ? k : answer]++;
    }

    public int labels() {
        return k;
    }

    public long count(int truth, int answer) {
        return counts[truth][answer < 0 ? k : answer];
    }

    public long[][] table() {
        long[][] copy = new long[k][];
        for (int i = 0; i < k; i++) copy[i] = counts[i].clone();
        return copy;
    }

    public long total() {
        long n = 0;
        for (long[] row : counts) for (long c : row) n += c;
        return n;
    }

    public long invalid() {
        long n = 0;
        for (long[] row : counts) n += row[k];
        return n;
    }

    public double accuracy() {
        long n = total(), right = 0;
        for (int i = 0; i < k; i++) right += counts[i][i];
        return n == 0 ? 0 : (double) right / n;
    }

    /** Per-class scores in label order. */
    public List<ClassScore> perClass(List<String> names) {
        List<ClassScore> out = new ArrayList<>(k);
        for (int c = 0; c < k; c++) {
            long tp = counts[c][c], predicted = 0, support = 0;
            for (int t = 0; t < k; t++) predicted += counts[t][c];
            for (int a = 0; a <= k; a++) support += counts[c][a];
            double p = ratio(tp, predicted), r = ratio(tp, support);
            out.add(new ClassScore(names.get(c), p, r, f1(p, r), support));
        }
        return out;
    }

    /** The headline numbers: accuracy, invalid rate, and macro/micro/weighted precision, recall and F1. */
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        long n = total();
        m.put("accuracy", accuracy());
        double mp = 0, mr = 0, mf = 0, wp = 0, wr = 0, wf = 0;
        long tpSum = 0, predSum = 0, supSum = 0;
        for (int c = 0; c < k; c++) {
            long tp = counts[c][c], predicted = 0, support = 0;
            for (int t = 0; t < k; t++) predicted += counts[t][c];
            for (int a = 0; a <= k; a++) support += counts[c][a];
            double p = ratio(tp, predicted), r = ratio(tp, support), f = f1(p, r);
            mp += p;
            mr += r;
            mf += f;
            wp += p * support;
            wr += r * support;
            wf += f * support;
            tpSum += tp;
            predSum += predicted;
            supSum += support;
        }
        m.put("macro_precision", k == 0 ? 0 : mp / k);
        m.put("macro_recall", k == 0 ? 0 : mr / k);
        m.put("macro_f1", k == 0 ? 0 : mf / k);
        double up = ratio(tpSum, predSum), ur = ratio(tpSum, supSum);
        m.put("micro_precision", up);
        m.put("micro_recall", ur);
        m.put("micro_f1", f1(up, ur));
        m.put("weighted_precision", supSum == 0 ? 0 : wp / supSum);
        m.put("weighted_recall", supSum == 0 ? 0 : wr / supSum);
        m.put("weighted_f1", supSum == 0 ? 0 : wf / supSum);
        m.put("invalid_rate", n == 0 ? 0 : (double) invalid() / n);
        return m;
    }

    static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }

    static double f1(double p, double r) {
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }
}
