package org.jtune.train.data.review;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.convert.SourceRow;
import org.jtune.train.data.convert.SourceTable;

/**
 * The review sheet: a CSV file (UTF-8 with a byte-order mark and CRLF rows, RFC 4180 quoting, so that
 * spreadsheet programs open it as it is) with one row per example to review, and an HTML view of
 * the same rows beside it. Columns:
 * <pre>
 * kind              row (an example of the file) or candidate (a proposed augmented row)
 * line              the example's line in the file (a candidate's: the example it paraphrases)
 * row_hash          pins the row: {@link DatasetRows#hash} of the line; for a candidate, of the line,
 *                   a newline and the candidate's input, so that neither can change unnoticed
 * input             the input (last user turn) — read-only; corrections go to corrected_input
 * answer            the answer (the label) — read-only; corrections go to corrected_answer/new_label
 * context           earlier turns of a multi-turn example (read-only)
 * source_input      for a candidate, the input it paraphrases (read-only)
 * action            for the reviewer: keep, drop, fix or relabel (blank: keep a row, do not add a candidate)
 * corrected_input   with fix: the new input
 * corrected_answer  with fix: the new answer
 * new_label         with relabel: the new label
 * note              free text, copied to the change log
 * </pre>
 * Reading accepts what a spreadsheet writes back (another delimiter, UTF-16, extra columns). A
 * value that a spreadsheet would run as a formula (starting with =, +, -, @, TAB or CR, after any
 * apostrophes) is written with one more leading apostrophe, which reading removes again (the OWASP
 * advice against CSV injection, made reversible).
 */
public final class ReviewSheet {
    public static final List<String> COLUMNS = List.of("kind", "line", "row_hash", "input", "answer", "context",
            "source_input", "action", "corrected_input", "corrected_answer", "new_label", "note");
    /** Columns a sheet must have to be applied. */
    static final List<String> REQUIRED = List.of("kind", "line", "row_hash", "action");
    /** A value a spreadsheet would evaluate: (apostrophes, then) =, +, -, @, TAB or CR. */
    private static final java.util.regex.Pattern FORMULA_START = java.util.regex.Pattern.compile("'*[=+\\-@\t\r]");
    /** The same with the apostrophe {@link #csvRow} added. */
    private static final java.util.regex.Pattern FORMULA = java.util.regex.Pattern.compile("''*[=+\\-@\t\r]");

    /** One sheet row; {@code sheetLine} is the line it was read from (0 when written). */
    public record Row(Kind kind, long line, String rowHash, String input, String answer, String context,
                      String sourceInput, String action, String correctedInput, String correctedAnswer,
                      String newLabel, String note, long sheetLine) {
        List<String> fields() {
            return List.of(kind.id(), Long.toString(line), rowHash, input, answer, context, sourceInput, action,
                    correctedInput, correctedAnswer, newLabel, note);
        }
    }

    public enum Kind {
        ROW, CANDIDATE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private ReviewSheet() {}

    /** The hash that pins a candidate: its source line and its input together. */
    public static String candidateHash(String sourceLine, String input) {
        return DatasetRows.hash(sourceLine + "\n" + input);
    }

    /** A new sheet row for an example of the file. */
    public static Row example(long line, String rowHash, String input, String answer, String context) {
        return new Row(Kind.ROW, line, rowHash, nz(input), nz(answer), nz(context), "", "", "", "", "", "", 0);
    }

    /** A new sheet row for an augmentation candidate. */
    public static Row candidate(long sourceLine, String sourceText, String input, String answer, String sourceInput, String note) {
        return new Row(Kind.CANDIDATE, sourceLine, candidateHash(sourceText, input), input, nz(answer), "", nz(sourceInput),
                "", "", "", "", nz(note), 0);
    }

    /**
     * Writes the sheet to {@code csv} and its HTML view to {@link #htmlPath}, each through a temporary file.
     *
     * @param title a line for the HTML page (what was sampled, from which file, with which seed)
     */
    public static void write(Path csv, List<Row> rows, String title) throws JtuneException {
        StringBuilder sb = new StringBuilder("\uFEFF");
        sb.append(csvRow(COLUMNS));
        for (Row r : rows) sb.append(csvRow(r.fields()));
        try {
            AtomicFile.write(csv, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
            String html = ReviewSheetHtml.render(title, csv.getFileName().toString(), rows);
            AtomicFile.write(htmlPath(csv), out -> out.write(html.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new JtuneException(csv + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** sheet.csv -> sheet.html (other names: + ".html"). */
    public static Path htmlPath(Path csv) {
        String name = csv.getFileName().toString();
        String base = name.toLowerCase(Locale.ROOT).endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
        return csv.resolveSibling(base + ".html");
    }

    /**
     * Reads a marked sheet. Problems with the sheet itself (a missing column, a broken record, a line
     * that is not a number, an unknown kind) are thrown with sheet:line.
     */
    public static List<Row> read(Path csv) throws JtuneException {
        SourceTable table = SourceTable.read(csv, SourceTable.Kind.CSV, null, null, true);
        for (String c : REQUIRED) {
            if (!table.columns().contains(c)) {
                throw new JtuneException(csv + ": no column \"" + c + "\"; a review sheet has the columns " + String.join(", ", COLUMNS));
            }
        }
        List<String> problems = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (SourceRow r : table.rows()) {
            String where = csv + ":" + r.line() + ": ";
            if (!r.ok()) {
                problems.add(where + r.error());
                continue;
            }
            Kind kind = switch (get(r, "kind").toLowerCase(Locale.ROOT)) {
                case "row", "" -> Kind.ROW;
                case "candidate" -> Kind.CANDIDATE;
                default -> null;
            };
            if (kind == null) {
                problems.add(where + "kind \"" + get(r, "kind") + "\" is neither row nor candidate");
                continue;
            }
            long line;
            try {
                line = Long.parseLong(get(r, "line"));
            } catch (NumberFormatException e) {
                problems.add(where + "line \"" + get(r, "line") + "\" is not a line number");
                continue;
            }
            rows.add(new Row(kind, line, get(r, "row_hash"), raw(r, "input"), raw(r, "answer"), raw(r, "context"),
                    raw(r, "source_input"), get(r, "action"), raw(r, "corrected_input"), raw(r, "corrected_answer"),
                    raw(r, "new_label"), raw(r, "note"), r.line()));
        }
        if (!problems.isEmpty()) throw new JtuneException(String.join("\n", problems.subList(0, Math.min(20, problems.size()))));
        return rows;
    }

    private static String get(SourceRow r, String column) {
        return raw(r, column).strip();
    }

    private static String raw(SourceRow r, String column) {
        String v = r.fields().get(column);
        if (v == null) return "";
        if (FORMULA.matcher(v).lookingAt()) v = v.substring(1);
        return v.replace("\r\n", "\n");
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** One RFC 4180 record: fields quoted when they hold a comma, quote or line break; CRLF at the end. */
    static String csvRow(List<String> fields) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) b.append(',');
            String f = fields.get(i) == null ? "" : fields.get(i);
            if (FORMULA_START.matcher(f).lookingAt()) f = "'" + f;
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0
                    || (!f.isEmpty() && (f.charAt(0) == ' ' || f.charAt(f.length() - 1) == ' '))) {
                b.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                b.append(f);
            }
        }
        return b.append("\r\n").toString();
    }
}
