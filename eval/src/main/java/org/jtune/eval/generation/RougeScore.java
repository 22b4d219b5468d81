package org.jtune.eval.generation;

/** Precision, recall and F1 of one ROUGE variant for one (reference, prediction) pair. */
public record RougeScore(double precision, double recall, double f) {
    public static final RougeScore ZERO = new RougeScore(0, 0, 0);

    static RougeScore of(double precision, double recall) {
        return new RougeScore(precision, recall,
                precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0);
    }
}
