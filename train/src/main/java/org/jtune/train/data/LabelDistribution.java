package org.jtune.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The distribution of final answers when a dataset is classification-style: at most
 * {@code maxLabels} distinct answers (compared after trimming) and, on average, each used at least
 * twice. Counts are ordered by count (descending), then label; the imbalance ratio is the largest
 * count over the smallest.
 */
public record LabelDistribution(Map<String, Long> counts, double imbalanceRatio) {
    /** Default limit on distinct answers for the data to count as classification-style. */
    public static final int DEFAULT_MAX_LABELS = 50;

    public LabelDistribution {
        counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    }

    public int labels() {
        return counts.size();
    }

    /** The label distribution of these examples, or empty when they are not classification-style. */
    public static Optional<LabelDistribution> detect(List<Conversation> examples, int maxLabels) {
        Map<String, Long> counts = new HashMap<>();
        long answered = 0;
        for (Conversation c : examples) {
            Optional<String> answer = c.finalAnswer();
            if (answer.isEmpty()) continue;
            answered++;
            counts.merge(answer.get().strip(), 1L, Long::sum);
            if (counts.size() > maxLabels) return Optional.empty();
        }
        if (counts.size() < 2 || answered < 2L * counts.size()) return Optional.empty();
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        Map<String, Long> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : sorted) ordered.put(e.getKey(), e.getValue());
        double ratio = (double) sorted.getFirst().getValue() / sorted.getLast().getValue();
        return Optional.of(new LabelDistribution(ordered, ratio));
    }
}
