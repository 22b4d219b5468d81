package org.jtune.eval;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.classification.ClassificationEvaluator;
import org.jtune.eval.extraction.ExtractionEvaluator;
import org.jtune.eval.extraction.JsonAnswer;
import org.jtune.eval.generation.BertScorer;
import org.jtune.eval.generation.GenerationEvaluator;

/**
 * The settings that choose and configure an {@link Evaluator}: an explicit label set (classification; empty:
 * from the examples), ROUGE stemming and BERTScore's scorer (generation; null: no BERTScore), required fields
 * (extraction; empty: the reference's).
 */
public record EvalSettings(List<String> labels, boolean rougeStemming, List<String> requiredFields, BertScorer bertScore) {
    public static final EvalSettings DEFAULTS = new EvalSettings(List.of(), false, List.of());

    public EvalSettings {
        labels = List.copyOf(labels);
        requiredFields = List.copyOf(requiredFields);
    }

    public EvalSettings(List<String> labels, boolean rougeStemming, List<String> requiredFields) {
        this(labels, rougeStemming, requiredFields, null);
    }

    public Evaluator evaluatorFor(Task task) {
        return switch (task) {
            case CLASSIFICATION -> labels.isEmpty() ? ClassificationEvaluator.fromExamples()
                    : ClassificationEvaluator.withLabels(labels);
            case GENERATION -> GenerationEvaluator.create(rougeStemming, bertScore);
            case EXTRACTION -> requiredFields.isEmpty() ? ExtractionEvaluator.create()
                    : ExtractionEvaluator.requiring(requiredFields);
        };
    }

    /**
     * The task when none is named: classification when labels are given (settings or any example's
     * label_set), extraction when every reference is a JSON object, generation otherwise.
     */
    public Task inferTask(List<Prediction> predictions) throws JtuneException {
        if (predictions.isEmpty()) throw new JtuneException("no predictions");
        if (!labels.isEmpty() || predictions.stream().anyMatch(p -> !p.labelSet().isEmpty())) return Task.CLASSIFICATION;
        boolean allObjects = predictions.stream().allMatch(p -> {
            var node = JsonAnswer.parse(p.reference());
            return node != null && node.isObject();
        });
        return allObjects ? Task.EXTRACTION : Task.GENERATION;
    }
}
