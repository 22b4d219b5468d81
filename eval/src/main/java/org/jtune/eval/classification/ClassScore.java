package org.jtune.eval.classification;

/** Precision, recall, F1 and support (number of true examples) of one label. */
public record ClassScore(String label, double precision, double recall, double f1, long support) {
}
