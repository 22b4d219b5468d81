package org.jtune.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the issues of a data check. Every issue is counted (per kind and per severity); the
 * first {@code storageCap} of each severity are kept in order of arrival so that a file of garbage
 * cannot exhaust memory. Printing applies its own, smaller cap.
 */
public final class IssueLog {
    /** Default number of issues kept per severity: enough for any report, bounded in memory. */
    public static final int DEFAULT_STORAGE_CAP = 10_000;

    private final int storageCap;
    private final List<Issue> errors = new ArrayList<>();
    private final List<Issue> warnings = new ArrayList<>();
    private final Map<IssueKind, Long> counts = new EnumMap<>(IssueKind.class);
    private long errorCount;
    private long warningCount;

    public IssueLog() {
        this(DEFAULT_STORAGE_CAP);
    }

    public IssueLog(int storageCap) {
        if (storageCap < 0) throw new IllegalArgumentException("storageCap must be >= 0");
        this.storageCap = storageCap;
    }

    public void add(Issue issue) {
        counts.merge(issue.kind(), 1L, Long::sum);
        if (issue.severity() == Severity.ERROR) {
            errorCount++;
            if (errors.size() < storageCap) errors.add(issue);
        } else {
            warningCount++;
            if (warnings.size() < storageCap) warnings.add(issue);
        }
    }

    public long errorCount() {
        return errorCount;
    }

    public long warningCount() {
        return warningCount;
    }

    /** The kept errors, in order of arrival (at most the storage cap). */
    public List<Issue> errors() {
        return Collections.unmodifiableList(errors);
    }

    /** The kept warnings, in order of arrival (at most the storage cap). */
    public List<Issue> warnings() {
        return Collections.unmodifiableList(warnings);
    }

    /** How many issues of each kind were found (all of them, not only the kept ones). */
    public Map<IssueKind, Long> counts() {
        return Collections.unmodifiableMap(counts);
    }

    public long count(IssueKind kind) {
        return counts.getOrDefault(kind, 0L);
    }
}
