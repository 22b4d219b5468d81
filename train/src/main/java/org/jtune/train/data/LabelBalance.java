package org.jtune.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * Oversampling of under-represented labels in a classification training set (the label is the
 * final answer, as data check sees it): every label with fewer than ⌈largest / maxRatio⌉ examples
 * is topped up to that count with copies of its own examples — whole passes over them in a seeded
 * order, then a seeded subset for the rest — so that after balancing no label is more than maxRatio
 * times rarer than the largest (maxRatio 1: all equal). Copies are appended; the trainer shuffles
 * each epoch. Apply it to the training split only, after any validation split, so that no copy of a
 * training row can stand in the validation set.
 */
public final class LabelBalance {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The balanced examples and, per label, the count before and after (largest first). */
    public record Result(List<Conversation> examples, String mode, double maxRatio, Map<String, long[]> counts) {
        public Result {
            examples = List.copyOf(examples);
            counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
        }

        /** True when rows were added. */
        public boolean applied() {
            return counts.values().stream().anyMatch(c -> c[1] > c[0]);
        }

        public long before() {
            return counts.values().stream().mapToLong(c -> c[0]).sum();
        }

        public long after() {
            return counts.values().stream().mapToLong(c -> c[1]).sum();
        }

        /** One line for the run's log: totals and the labels that grew. */
        public String summary() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "balance %s (max ratio %.2f): %d -> %d training examples", mode, maxRatio, before(), after()));
            int grown = 0;
            for (Map.Entry<String, long[]> e : counts.entrySet()) {
                if (e.getValue()[1] == e.getValue()[0]) continue;
                sb.append(grown++ == 0 ? "; " : ", ").append(e.getKey()).append(' ').append(e.getValue()[0]).append(" -> ").append(e.getValue()[1]);
                if (grown == 8) {
                    sb.append(", ...");
                    break;
                }
            }
            return sb.toString();
        }

        /** {"mode","max_ratio","examples_before","examples_after","labels":{label:{"before","after"}}} */
        public String json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("mode", mode).put("max_ratio", maxRatio).put("examples_before", before()).put("examples_after", after());
            ObjectNode l = o.putObject("labels");
            counts.forEach((label, c) -> l.putObject(label).put("before", c[0]).put("after", c[1]));
            return o.toPrettyString() + "\n";
        }
    }

    private LabelBalance() {}

    /** No balancing: the examples as they are. */
    public static Result none(List<Conversation> examples) {
        return new Result(examples, "none", 1, Map.of());
    }

    /**
     * @throws JtuneException when the answers are not classification labels
     */
    public static Result oversample(List<Conversation> examples, double maxRatio, long seed) throws JtuneException {
        if (!(maxRatio >= 1)) throw new IllegalArgumentException("maxRatio must be >= 1, got " + maxRatio);
        LabelDistribution dist = LabelDistribution.detect(examples, Integer.MAX_VALUE).orElseThrow(() -> new JtuneException(
                "balance: oversample needs classification data (final answers that are labels, each used at least twice on average)"));
        Map<String, List<Conversation>> byLabel = new LinkedHashMap<>();
        for (String label : dist.counts().keySet()) byLabel.put(label, new ArrayList<>());
        for (Conversation c : examples) byLabel.get(c.finalAnswer().orElseThrow().strip()).add(c);
        long largest = dist.counts().values().iterator().next();
        long target = (long) Math.ceil(largest / maxRatio - 1e-9);
        List<Conversation> out = new ArrayList<>(examples);
        Map<String, long[]> counts = new LinkedHashMap<>();
        long labelSeed = seed;
        for (Map.Entry<String, List<Conversation>> e : byLabel.entrySet()) {
            List<Conversation> members = e.getValue();
            long missing = Math.max(0, target - members.size());
            List<Conversation> order = SeededShuffle.shuffle(members, labelSeed++);
            for (long i = 0; i < missing; i++) out.add(order.get((int) (i % order.size())));
            counts.put(e.getKey(), new long[] {members.size(), members.size() + missing});
        }
        return new Result(out, "oversample", maxRatio, counts);
    }
}
