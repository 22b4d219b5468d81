package org.jtune.eval.classification;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * An ordered closed set of labels and the map from normalised text ({@link LabelNormalizer}) to a label's
 * index. Two different labels that normalise to the same text are an error: answers could not tell them apart.
 */
public final class LabelSet {
    private final List<String> labels = new ArrayList<>();
    private final Map<String, Integer> byNormal = new HashMap<>();

    private LabelSet() {
    }

    /** Builds the set keeping first-seen order (repeats are ignored); {@code where} names the source. */
    public static LabelSet of(List<String> labels, String where) throws JtuneException {
        LabelSet set = new LabelSet();
        for (String l : labels) set.add(l, where);
        return set;
    }

    private void add(String label, String where) throws JtuneException {
        String n = LabelNormalizer.normalize(label);
        if (n.isEmpty()) throw new JtuneException(where + ": empty label in the label set");
        Integer old = byNormal.get(n);
        if (old != null) {
            if (labels.get(old).equals(label)) return;
            throw new JtuneException(where + ": labels '" + labels.get(old) + "' and '" + label
                    + "' are the same after normalisation (case, spaces, punctuation); keep one");
        }
        byNormal.put(n, labels.size());
        labels.add(label);
    }

    public List<String> labels() {
        return Collections.unmodifiableList(labels);
    }

    public int size() {
        return labels.size();
    }

    /** The index of the label {@code text} names, or -1 when it names none. */
    public int indexOf(String text) {
        Integer i = byNormal.get(LabelNormalizer.normalize(text));
        return i == null ? -1 : i;
    }
}
