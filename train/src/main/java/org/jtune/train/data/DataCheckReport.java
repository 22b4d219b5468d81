package org.jtune.train.data;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of a {@link DataCheck}: one report per file (train first, then validation), the
 * train/validation overlap when a validation file was given, and every issue found. The data passes
 * when there are no errors; warnings do not fail it.
 */
public record DataCheckReport(List<FileReport> files, Optional<OverlapSummary> overlap, IssueLog issues) {
    public DataCheckReport {
        files = List.copyOf(files);
    }

    public boolean passed() {
        return issues.errorCount() == 0;
    }

    /** Process exit code of `jtune data check`: 1 when there are errors, else 0. */
    public int exitCode() {
        return passed() ? 0 : 1;
    }
}
