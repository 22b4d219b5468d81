package org.jtune.train.data.convert;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads delimiter-separated records from decoded text as RFC 4180 defines them: a field that starts
 * with a double quote runs to the matching closing quote and may hold the delimiter, line breaks and
 * doubled quotes ({@code ""} for one {@code "}); records end at CRLF, LF or a lone CR. Each record
 * carries the physical line it starts on. Line breaks inside quoted fields are kept as LF.
 *
 * <p>A record that breaks the rules is returned with an error instead of fields, and reading resumes
 * at the start of the physical line after the one the broken record started on, so that one stray
 * quote loses one row, not the rest of the file. The errors: text after a closing quote; a quote
 * inside an unquoted field (RFC 4180 does not allow it, and it is how a missing opening quote shows);
 * a quoted field never closed. Empty lines (and lines of spaces only) are skipped and counted.
 */
public final class CsvParser {
    /** One record: the line it starts on, and its fields or, when it could not be read, why. */
    public record Record(long line, List<String> fields, String error) {
        public boolean ok() {
            return error == null;
        }
    }

    private final String text;
    private final char delimiter;
    private int pos;
    private long line = 1;
    private long blankLines;

    public CsvParser(String text, char delimiter) {
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
            throw new IllegalArgumentException("a quote or line break cannot be the delimiter");
        }
        this.text = text;
        this.delimiter = delimiter;
    }

    /** Starts reading at a given offset of the text, which is on the given physical line. */
    CsvParser startingAt(int offset, long lineNumber) {
        this.pos = offset;
        this.line = lineNumber;
        return this;
    }

    /** Empty (or space-only) lines skipped so far. */
    public long blankLines() {
        return blankLines;
    }

    /** The next record, or null at the end of the text. */
    public Record next() {
        skipBlankLines();
        if (pos >= text.length()) return null;
        long startLine = line;
        int startPos = pos;
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        while (true) {
            field.setLength(0);
            if (pos < text.length() && text.charAt(pos) == '"') {
                long quoteLine = line;
                pos++;
                boolean closed = false;
                while (pos < text.length()) {
                    char c = text.charAt(pos);
                    if (c == '"') {
                        if (pos + 1 < text.length() && text.charAt(pos + 1) == '"') {
                            field.append('"');
                            pos += 2;
                            continue;
                        }
                        pos++;
                        closed = true;
                        break;
                    }
                    if (breakLength(pos) > 0) {
                        pos += breakLength(pos);
                        line++;
                        field.append('\n');
                        continue;
                    }
                    field.append(c);
                    pos++;
                }
                if (!closed) {
                    return recover(startLine, startPos, "the quoted field opened on line " + quoteLine
                            + " is never closed (a missing closing quote?)");
                }
                fields.add(field.toString());
                if (pos >= text.length()) return new Record(startLine, fields, null);
                if (text.charAt(pos) == delimiter) {
                    pos++;
                    continue;
                }
                if (breakLength(pos) > 0) {
                    pos += breakLength(pos);
                    line++;
                    return new Record(startLine, fields, null);
                }
                String where = line == startLine ? "" : " (on line " + line + ")";
                return recover(startLine, startPos, "text after the closing quote of field " + fields.size() + where
                        + ": a quote inside a field must be doubled (\"\") and the field quoted");
            }
            while (pos < text.length() && text.charAt(pos) != delimiter && breakLength(pos) == 0) {
                char c = text.charAt(pos);
                if (c == '"') {
                    return recover(startLine, startPos, "a quote inside unquoted field " + (fields.size() + 1)
                            + ": quote the whole field and double the quote (\"\")");
                }
                field.append(c);
                pos++;
            }
            fields.add(field.toString());
            if (pos >= text.length()) return new Record(startLine, fields, null);
            if (text.charAt(pos) == delimiter) {
                pos++;
                continue;
            }
            pos += breakLength(pos);
            line++;
            return new Record(startLine, fields, null);
        }
    }

    /** Reports a broken record and moves to the physical line after the one it started on. */
    private Record recover(long startLine, int startPos, String error) {
        int p = startPos;
        while (p < text.length() && breakLength(p) == 0) p++;
        pos = p < text.length() ? p + breakLength(p) : p;
        line = startLine + 1;
        return new Record(startLine, null, error);
    }

    private void skipBlankLines() {
        while (pos < text.length()) {
            int p = pos;
            while (p < text.length() && text.charAt(p) == ' ' && delimiter != ' ') p++;
            int br = p < text.length() ? breakLength(p) : 0;
            if (br == 0) {
                if (p >= text.length() && p > pos) pos = p;   // trailing spaces at the very end
                return;
            }
            pos = p + br;
            line++;
            blankLines++;
        }
    }

    /** 2 for CRLF, 1 for LF or a lone CR, 0 when no line break starts at {@code p}. */
    private int breakLength(int p) {
        char c = text.charAt(p);
        if (c == '\n') return 1;
        if (c == '\r') return p + 1 < text.length() && text.charAt(p + 1) == '\n' ? 2 : 1;
        return 0;
    }
}
