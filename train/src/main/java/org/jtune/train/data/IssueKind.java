package org.jtune.train.data;

import java.util.Locale;

/**
 * Every kind of problem the data check can report, with its fixed severity. Line-level kinds come
 * from reading and validating one JSONL line; dataset-level kinds come from the quality report.
 * The JSON code ({@link #code()}) is part of the CLI contract: add kinds, do not rename them.
 */
public enum IssueKind {
    // ---- errors: the line cannot be used as it stands
    BAD_JSON(Severity.ERROR, "not valid JSON"),
    NOT_AN_OBJECT(Severity.ERROR, "line is not a JSON object"),
    INVALID_UTF8(Severity.ERROR, "bytes that are not UTF-8"),
    BOM_INSIDE_FILE(Severity.ERROR, "byte-order mark after the first line"),
    LINE_TOO_LONG(Severity.ERROR, "line over the length limit"),
    UNKNOWN_FORMAT(Severity.ERROR, "keys match no dataset format"),
    FORMAT_MISMATCH(Severity.ERROR, "line in another format than the file"),
    MISSING_FIELD(Severity.ERROR, "required field missing"),
    WRONG_TYPE(Severity.ERROR, "field of the wrong JSON type"),
    NON_STRING_CONTENT(Severity.ERROR, "message content is not a string"),
    UNKNOWN_ROLE(Severity.ERROR, "unknown role"),
    ROLE_ORDER(Severity.ERROR, "roles out of order"),
    EMPTY_CONTENT(Severity.ERROR, "empty content"),
    NO_ASSISTANT_TURN(Severity.ERROR, "no assistant turn"),
    NO_EXAMPLES(Severity.ERROR, "file holds no usable example"),
    UNCONVERTIBLE_ROW(Severity.ERROR, "source row that cannot be converted"),
    // ---- warnings: usable, but worth a look
    BLANK_LINE(Severity.WARNING, "blank line (skipped)"),
    BOM_AT_START(Severity.WARNING, "byte-order mark at the start (skipped)"),
    TRAILING_USER_TURN(Severity.WARNING, "ends with an unanswered user turn"),
    OVER_SEQUENCE_LENGTH(Severity.WARNING, "longer than the sequence length"),
    EXACT_DUPLICATE(Severity.WARNING, "exact duplicate"),
    NEAR_DUPLICATE(Severity.WARNING, "near duplicate"),
    CONFLICTING_ANSWERS(Severity.WARNING, "same input, different answers"),
    TRAIN_VALIDATION_OVERLAP(Severity.WARNING, "validation input also in train"),
    LABEL_IMBALANCE(Severity.WARNING, "imbalanced labels"),
    LABEL_NOT_IN_TRAIN(Severity.WARNING, "validation label never seen in train"),
    MIXED_SYSTEM_PROMPT(Severity.WARNING, "some examples lack the system prompt"),
    SYSTEM_PROMPT_VARIANTS(Severity.WARNING, "variants of the main system prompt");

    private final Severity severity;
    private final String title;

    IssueKind(Severity severity, String title) {
        this.severity = severity;
        this.title = title;
    }

    public Severity severity() {
        return severity;
    }

    /** A short human title for summaries ("roles out of order"). */
    public String title() {
        return title;
    }

    /** The stable snake_case code used in JSON output ("role_order"). */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }
}
