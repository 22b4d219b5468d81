package org.jtune.eval.extraction;

/** How often one field was present in the answer and how often its value was right, over the examples whose reference has it. */
public record FieldScore(String field, long expected, long present, long correct, double accuracy) {
}
