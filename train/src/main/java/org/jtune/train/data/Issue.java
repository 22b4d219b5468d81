package org.jtune.train.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One problem found in a dataset file: its kind (which fixes the severity), the file, the 1-based
 * line it is on (0 when it concerns the whole file) and a message that says what is wrong and, when
 * it can, what to do. Prints as {@code file:line: error: message}.
 */
public record Issue(IssueKind kind, Path file, long line, String message) {
    public Issue {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(message, "message");
        if (line < 0) throw new IllegalArgumentException("line must be >= 0, got " + line);
    }

    public static Issue at(IssueKind kind, SourceLine where, String message) {
        return new Issue(kind, where.file(), where.line(), message);
    }

    public static Issue wholeFile(IssueKind kind, Path file, String message) {
        return new Issue(kind, file, 0, message);
    }

    public Severity severity() {
        return kind.severity();
    }

    @Override
    public String toString() {
        String where = line > 0 ? file + ":" + line : file.toString();
        return where + ": " + severity().jsonName() + ": " + message;
    }
}
