package org.jtune.train.data;

/**
 * What {@link DuplicateScan} found in one file.
 *
 * @param exactDuplicates     examples identical (roles and content, byte for byte) to an earlier one
 * @param nearDuplicates      examples equal to an earlier one after {@link NormalisedText}, but not exactly
 * @param conflictGroups      groups of examples with the same normalised input and different normalised answers
 * @param conflictingExamples examples in those groups
 */
public record DuplicateSummary(long exactDuplicates, long nearDuplicates, long conflictGroups, long conflictingExamples) {
}
