package org.jtune.eval.extraction;

import java.util.List;
import org.jtune.eval.TaskReport;

/** Extraction detail: per-field scores, how many answers were not a JSON object, and the first few of those. */
public record ExtractionReport(List<FieldScore> fields, long invalidJson, List<String> invalidExamples)
        implements TaskReport {
}
