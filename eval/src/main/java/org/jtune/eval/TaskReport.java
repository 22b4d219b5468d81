package org.jtune.eval;

/**
 * The task-specific detail of an evaluation (beyond the flat metric map), serialised into metrics.json:
 * {@code ClassificationReport}, {@code GenerationReport} or {@code ExtractionReport}. (Not sealed: the
 * implementations live in their tasks' packages and the module is not a named JPMS module.)
 */
public interface TaskReport {
}
