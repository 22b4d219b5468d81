package org.jtune.train.data;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The quality report of one dataset file: what was read (format, lines, valid examples, errors on
 * its lines), size (messages, assistant turns, characters), token lengths, duplicates and conflicts,
 * system-prompt consistency and, for classification-style data, the label distribution.
 *
 * @param split                "train" or "validation"
 * @param format               the format read, or null when no line revealed one
 * @param formatDetectedAtLine the line the format was detected from; 0 when set explicitly or unknown
 * @param errors               errors reported for this file (its lines and the file as a whole)
 * @param augmented            valid examples marked {@code "augmented": true}
 */
public record FileReport(String split, Path file, DatasetFormat format, long formatDetectedAtLine, long lines,
                         long examples, long errors, long messages, long assistantTurns, long characters,
                         TokenLengths tokens, DuplicateSummary duplicates, SystemPromptSummary systemPrompts,
                         Optional<LabelDistribution> labels, long augmented) {
}
