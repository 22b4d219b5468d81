package org.jtune.train.data;

/**
 * Train/validation leakage found by {@link OverlapScan}.
 *
 * @param validationExamples  examples in the validation file
 * @param overlapping         validation examples whose normalised input also occurs in train
 * @param sameAnswer          of those, how many also give the same normalised answer as a train copy
 */
public record OverlapSummary(long validationExamples, long overlapping, long sameAnswer) {
    public double fraction() {
        return validationExamples == 0 ? 0 : (double) overlapping / validationExamples;
    }
}
