package org.jtune.eval.compare;

/** Per-class F1 of baseline and candidate (classification comparisons). */
public record ClassDelta(String label, double baselineF1, double candidateF1, long support) {
    public double delta() {
        return candidateF1 - baselineF1;
    }
}
