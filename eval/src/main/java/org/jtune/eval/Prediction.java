package org.jtune.eval;

import java.util.List;
import java.util.Objects;

/**
 * One scored example: what the model was asked ({@code input}), what it should have said ({@code reference})
 * and what it said ({@code prediction}). {@code labelSet} is the closed set of answers allowed for this
 * example (classification only; empty when not given). {@code requiredFields} lists the fields an
 * extraction answer must carry (empty: the reference's own fields). {@code where} says where the record
 * came from ("preds.jsonl:12") so that errors found while scoring can point at it. {@code invalidReason}
 * says why no answer could be generated (a prompt longer than the model's context, ...): the prediction is
 * then empty and is scored as an invalid answer; null for an ordinary prediction.
 *
 * <p>This is the record a model runner builds for every generated answer before calling an {@link Evaluator}.
 */
public record Prediction(String id, String input, String reference, String prediction,
                         List<String> labelSet, List<String> requiredFields, String where, String invalidReason) {
    public Prediction {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(prediction, "prediction");
        input = input == null ? "" : input;
        labelSet = labelSet == null ? List.of() : List.copyOf(labelSet);
        requiredFields = requiredFields == null ? List.of() : List.copyOf(requiredFields);
        where = where == null ? "example " + id : where;
    }

    /** An ordinary prediction (no invalid reason). */
    public Prediction(String id, String input, String reference, String prediction,
                      List<String> labelSet, List<String> requiredFields, String where) {
        this(id, input, reference, prediction, labelSet, requiredFields, where, null);
    }

    /** An example the model could not answer: an empty prediction, scored as invalid, with the reason. */
    public static Prediction invalid(String id, String input, String reference, String where, String reason) {
        return new Prediction(id, input, reference, "", List.of(), List.of(), where, Objects.requireNonNull(reason, "reason"));
    }

    /** A record made in memory (by a model runner): no label set, located by its id. */
    public static Prediction of(String id, String input, String reference, String prediction) {
        return new Prediction(id, input, reference, prediction, List.of(), List.of(), null);
    }

    /** The same record with a per-example label set. */
    public Prediction withLabelSet(List<String> labels) {
        return new Prediction(id, input, reference, prediction, labels, requiredFields, where, invalidReason);
    }
}
