package org.jtune.eval;

import java.util.List;
import java.util.Objects;

/**
 * One scored example: what the model was asked ({@code input}), what it should have said ({@code reference})
 * and what it said ({@code prediction}). {@code labelSet} is the closed set of answers allowed for this
 * example (classification only; empty when not given). {@code requiredFields} lists the fields an
 * extraction answer must carry (empty: the reference's own fields). {@code where} says where the record
 * came from ("preds.jsonl:12") so that errors found while scoring can point at it.
 *
 * <p>This is the record a model runner builds for every generated answer before calling an {@link Evaluator}.
 */
public record Prediction(String id, String input, String reference, String prediction,
                         List<String> labelSet, List<String> requiredFields, String where) {
    public Prediction {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(prediction, "prediction");
        input = input == null ? "" : input;
        labelSet = labelSet == null ? List.of() : List.copyOf(labelSet);
        requiredFields = requiredFields == null ? List.of() : List.copyOf(requiredFields);
        where = where == null ? "example " + id : where;
    }

    /** A record made in memory (by a model runner): no label set, located by its id. */
    public static Prediction of(String id, String input, String reference, String prediction) {
        return new Prediction(id, input, reference, prediction, List.of(), List.of(), null);
    }

    /** The same record with a per-example label set. */
    public Prediction withLabelSet(List<String> labels) {
        return new Prediction(id, input, reference, prediction, labels, requiredFields, where);
    }
}
