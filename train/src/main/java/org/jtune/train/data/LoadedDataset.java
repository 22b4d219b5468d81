package org.jtune.train.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A dataset file after reading and validation: the conversations of its valid lines (in file
 * order), the format the file was read as and the line it was detected from (0 when set
 * explicitly or when no line revealed it), the number of physical lines, and how many valid lines
 * are marked {@code "augmented": true}. The issues found while
 * reading went to the {@link IssueLog} given to {@link DatasetReader}.
 */
public record LoadedDataset(Path file, DatasetFormat format, long formatDetectedAtLine, long lines,
                            List<Conversation> examples, long augmented) {
    public LoadedDataset {
        examples = List.copyOf(examples);
    }

    /** The format, or empty when the file held no line of a recognisable format. */
    public Optional<DatasetFormat> formatIfKnown() {
        return Optional.ofNullable(format);
    }
}
