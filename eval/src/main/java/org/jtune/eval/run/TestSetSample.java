package org.jtune.eval.run;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A seeded sample of a test set (`jtune eval --limit N`): the first N lines of a file sorted by label
 * would hold one class, so N examples are drawn at random with a seed — stratified by reference label
 * for classification: each label gets its share of N by largest remainder (Hamilton's method, ties to
 * the label seen first), drawn at random within the label. The sample keeps the file's order, and the
 * same seed gives the same sample (java.util.Random's generator is specified), so a candidate and its
 * baseline are scored on the same examples.
 */
public final class TestSetSample {
    private TestSetSample() {}

    /** {@code n} examples (all of them when n ≥ their count), stratified by reference when {@code stratify}. */
    public static List<ChatTestSet.Example> draw(List<ChatTestSet.Example> examples, int n, long seed, boolean stratify) {
        if (n < 0) throw new IllegalArgumentException("--limit must be >= 0, got " + n);
        if (n >= examples.size()) return examples;
        Random random = new Random(seed);
        List<Integer> chosen = new ArrayList<>();
        if (!stratify) {
            List<Integer> all = indices(examples.size());
            Collections.shuffle(all, random);
            chosen.addAll(all.subList(0, n));
        } else {
            Map<String, List<Integer>> byLabel = new LinkedHashMap<>();
            for (int i = 0; i < examples.size(); i++) {
                byLabel.computeIfAbsent(examples.get(i).reference().strip(), k -> new ArrayList<>()).add(i);
            }
            List<String> labels = new ArrayList<>(byLabel.keySet());
            int[] quota = new int[labels.size()];
            double[] remainder = new double[labels.size()];
            int given = 0;
            for (int l = 0; l < labels.size(); l++) {
                double exact = (double) n * byLabel.get(labels.get(l)).size() / examples.size();
                quota[l] = (int) Math.floor(exact);
                remainder[l] = exact - quota[l];
                given += quota[l];
            }
            List<Integer> order = indices(labels.size());
            order.sort(Comparator.comparingDouble((Integer l) -> -remainder[l]).thenComparingInt(l -> l));
            for (int k = 0; given < n; k++, given++) quota[order.get(k % order.size())]++;
            for (int l = 0; l < labels.size(); l++) {
                List<Integer> members = new ArrayList<>(byLabel.get(labels.get(l)));
                Collections.shuffle(members, random);
                chosen.addAll(members.subList(0, Math.min(quota[l], members.size())));
            }
        }
        Collections.sort(chosen);
        List<ChatTestSet.Example> out = new ArrayList<>(chosen.size());
        for (int i : chosen) out.add(examples.get(i));
        return out;
    }

    private static List<Integer> indices(int n) {
        List<Integer> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) all.add(i);
        return all;
    }
}
