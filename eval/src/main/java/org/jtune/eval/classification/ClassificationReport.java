package org.jtune.eval.classification;

import java.util.List;
import org.jtune.eval.TaskReport;

/**
 * Classification detail: the label set in order, per-class scores, the confusion matrix (rows: true label
 * in label order; columns: answered label in label order, then one column for invalid answers), how many
 * answers were invalid (empty answers included) and the first few of them.
 */
public record ClassificationReport(List<String> labels, List<ClassScore> perClass, long[][] confusion,
                                   long invalid, long empty, List<InvalidAnswer> invalidExamples)
        implements TaskReport {
}
