package org.jtune.train.data.review;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetFormat;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.LabelDistribution;
import org.jtune.train.data.NormalisedText;

/**
 * `jtune data apply-review` as an API: applies a marked {@link ReviewSheet} to the JSONL file it was
 * made from and writes a new version of the file plus a change log; the input is never modified.
 *
 * <p>The whole sheet is checked before anything is written, and any problem refuses it (listed with
 * sheet:line): a row_hash that does not match its line (the sheet belongs to another version of the
 * file), an edited read-only column, an unknown action, fix without a correction, relabel without a
 * label, one line marked twice. Then, in file order, rows marked drop are left out, fix replaces the
 * input and/or answer, relabel the answer, and every other line is copied unchanged; candidates
 * marked keep, fix or relabel are appended as copies of the example they paraphrase with the new
 * input, marked {@code "augmented": true} and {@code "augmented_from": line} (a candidate whose
 * normalised input is already in the file is skipped and logged). The change log (JSONL) starts with
 * a summary line and has one line per change with the text before and after and the reviewer's note.
 */
public final class ApplyReview {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PROBLEMS_SHOWN = 20;

    /** The counts of what was applied, the files written, and warnings (a new label the file did not have). */
    public record Result(Path output, Path changeLog, long lines, long dropped, long fixed, long relabeled, long added,
                         long candidatesNotApproved, long candidatesDuplicate, List<String> warnings) {}

    enum Action { NONE, KEEP, DROP, FIX, RELABEL }

    private record Mark(ReviewSheet.Row row, Action action) {}

    private ApplyReview() {}

    /** The default change log beside the output: out.jsonl -> out.changes.jsonl. */
    public static Path defaultChangeLog(Path output) {
        String name = output.getFileName().toString();
        String base = name.toLowerCase(Locale.ROOT).endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
        return output.resolveSibling(base + ".changes.jsonl");
    }

    public static Result run(Path input, Path sheet, Path output, Path changeLog) throws JtuneException {
        if (input.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
            throw new JtuneException("--out " + output + " is the input file: write the new version to another file and keep the old one");
        }
        DatasetRows rows = DatasetRows.read(input);
        for (long l = 1; l <= rows.lineCount(); l++) {
            if (rows.line(l) == null) throw new JtuneException(input + ":" + l + ": the line cannot be read (too long or not UTF-8); fix the file first");
        }
        Map<Long, Conversation> byLine = new HashMap<>();
        for (Conversation c : rows.examples()) byLine.put(c.source().line(), c);

        List<String> problems = new ArrayList<>();
        Map<Long, Mark> edits = new LinkedHashMap<>();
        List<Mark> candidates = new ArrayList<>();
        long notApproved = 0;
        for (ReviewSheet.Row r : ReviewSheet.read(sheet)) {
            String where = sheet + ":" + r.sheetLine() + ": ";
            int before = problems.size();
            Action action = action(r.action());
            if (action == null) problems.add(where + "action \"" + r.action() + "\" is not keep, drop, fix or relabel");
            Conversation c = byLine.get(r.line());
            String line = rows.line(r.line());
            if (c == null || line == null) {
                problems.add(where + "line " + r.line() + " of " + input + " is not an example");
                continue;
            }
            ObjectNode json = RowFields.parse(line);
            String expectedHash = r.kind() == ReviewSheet.Kind.ROW ? DatasetRows.hash(line) : ReviewSheet.candidateHash(line, r.input());
            if (!expectedHash.equals(r.rowHash())) {
                problems.add(where + "row_hash " + r.rowHash() + " does not match line " + r.line() + " of " + input
                        + (r.kind() == ReviewSheet.Kind.ROW ? " (the sheet was made from another version of the file; sample it again)"
                        : " (the example changed, or the candidate's input was edited in place; edit it through corrected_input)"));
                continue;
            }
            if (r.kind() == ReviewSheet.Kind.ROW && !sameText(r.input(), RowFields.input(json, c.format()))) {
                problems.add(where + "the input column was edited; put the new input in corrected_input with action fix");
            }
            if (!sameText(r.answer(), RowFields.answer(json, c.format()))) {
                problems.add(where + "the answer column was edited; put the new answer in corrected_answer (fix) or new_label (relabel)");
            }
            if (action == Action.FIX) {
                if (r.correctedInput().isBlank() && r.correctedAnswer().isBlank()) {
                    problems.add(where + "fix needs corrected_input or corrected_answer");
                }
                if (!r.correctedInput().isBlank() && RowFields.input(json, c.format()) == null) {
                    problems.add(where + "this " + c.format().id() + " row has no input to correct");
                }
            }
            if (action == Action.RELABEL && r.newLabel().isBlank()) problems.add(where + "relabel needs new_label");
            if (problems.size() > before || action == null) continue;
            if (r.kind() == ReviewSheet.Kind.CANDIDATE) {
                if (action == Action.NONE || action == Action.DROP) notApproved++;
                else candidates.add(new Mark(r, action));
            } else if (edits.putIfAbsent(r.line(), new Mark(r, action)) != null) {
                problems.add(where + "line " + r.line() + " is on the sheet twice (first at " + sheet + ":"
                        + edits.get(r.line()).row().sheetLine() + ")");
            }
        }
        if (!problems.isEmpty()) {
            StringBuilder sb = new StringBuilder(sheet + " does not match " + input + "; nothing was written:");
            for (int i = 0; i < Math.min(PROBLEMS_SHOWN, problems.size()); i++) sb.append("\n  ").append(problems.get(i));
            if (problems.size() > PROBLEMS_SHOWN) sb.append("\n  ... and ").append(problems.size() - PROBLEMS_SHOWN).append(" more");
            throw new JtuneException(sb.toString());
        }

        Set<String> labels = LabelDistribution.detect(rows.examples(), Integer.MAX_VALUE)
                .map(d -> (Set<String>) new HashSet<>(d.counts().keySet())).orElse(null);
        List<String> warnings = new ArrayList<>();
        List<String> out = new ArrayList<>();
        List<ObjectNode> log = new ArrayList<>();
        Set<String> inputs = new HashSet<>();
        long dropped = 0, fixed = 0, relabeled = 0, added = 0, duplicates = 0;
        for (long l = 1; l <= rows.lineCount(); l++) {
            String text = rows.line(l);
            Mark m = edits.get(l);
            Conversation c = byLine.get(l);
            if (m == null || m.action() == Action.NONE || m.action() == Action.KEEP) {
                out.add(text);
                if (c != null) inputs.add(normalisedInput(RowFields.parse(text), c.format()));
                continue;
            }
            ReviewSheet.Row r = m.row();
            if (m.action() == Action.DROP) {
                dropped++;
                log.add(change("drop", l, r, text, null));
                continue;
            }
            ObjectNode json = RowFields.parse(text);
            edit(json, c.format(), m.action(), r, labels, warnings, r.sheetLine(), sheet);
            String after = RowFields.write(json);
            if (m.action() == Action.FIX) fixed++;
            else relabeled++;
            out.add(after);
            inputs.add(normalisedInput(json, c.format()));
            log.add(change(m.action().name().toLowerCase(Locale.ROOT), l, r, text, after));
        }
        for (Mark m : candidates) {
            ReviewSheet.Row r = m.row();
            Conversation source = byLine.get(r.line());
            ObjectNode json = RowFields.parse(rows.line(r.line()));
            RowFields.setInput(json, source.format(), r.input().strip());
            edit(json, source.format(), m.action(), r, labels, warnings, r.sheetLine(), sheet);
            json.put("augmented", true);
            json.put("augmented_from", r.line());
            String key = normalisedInput(json, source.format());
            String after = RowFields.write(json);
            if (!inputs.add(key)) {
                duplicates++;
                log.add(change("skip_duplicate", r.line(), r, null, after));
                continue;
            }
            added++;
            out.add(after);
            log.add(change("add", r.line(), r, null, after));
        }

        Result result = new Result(output, changeLog, out.size(), dropped, fixed, relabeled, added, notApproved, duplicates, warnings);
        write(input, sheet, output, changeLog, out, log, result);
        return result;
    }

    private static void edit(ObjectNode json, DatasetFormat f, Action action, ReviewSheet.Row r, Set<String> labels,
                             List<String> warnings, long sheetLine, Path sheet) {
        if (action == Action.FIX) {
            if (!r.correctedInput().isBlank()) RowFields.setInput(json, f, r.correctedInput().strip());
            if (!r.correctedAnswer().isBlank()) RowFields.setAnswer(json, f, r.correctedAnswer().strip());
        } else if (action == Action.RELABEL) {
            String label = r.newLabel().strip();
            RowFields.setAnswer(json, f, label);
            if (labels != null && !labels.contains(label)) {
                warnings.add(sheet + ":" + sheetLine + ": new label \"" + label + "\" is not one of the " + labels.size() + " labels of the file");
            }
        }
    }

    private static void write(Path input, Path sheet, Path output, Path changeLog, List<String> lines, List<ObjectNode> log,
                              Result r) throws JtuneException {
        try {
            AtomicFile.Written written = AtomicFile.write(output, o -> {
                for (String l : lines) {
                    o.write(l.getBytes(StandardCharsets.UTF_8));
                    o.write('\n');
                }
            });
            ObjectNode summary = JSON.createObjectNode();
            summary.put("type", "summary").put("input", input.toString()).put("sheet", sheet.toString())
                    .put("output", output.toString()).put("output_sha256", written.sha256()).put("lines", r.lines())
                    .put("dropped", r.dropped()).put("fixed", r.fixed()).put("relabeled", r.relabeled()).put("added", r.added())
                    .put("candidates_not_approved", r.candidatesNotApproved()).put("candidates_duplicate", r.candidatesDuplicate());
            AtomicFile.write(changeLog, o -> {
                o.write((summary + "\n").getBytes(StandardCharsets.UTF_8));
                for (ObjectNode n : log) o.write((n + "\n").getBytes(StandardCharsets.UTF_8));
            });
        } catch (IOException e) {
            throw new JtuneException(output + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static ObjectNode change(String action, long line, ReviewSheet.Row r, String before, String after) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "change").put("action", action).put("line", line).put("row_hash", r.rowHash()).put("kind", r.kind().id());
        if (before != null) n.put("before", before);
        if (after != null) n.put("after", after);
        if (!r.note().isBlank()) n.put("note", r.note());
        return n;
    }

    static Action action(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "" -> Action.NONE;
            case "keep", "approve", "ok" -> Action.KEEP;
            case "drop", "delete", "remove" -> Action.DROP;
            case "fix" -> Action.FIX;
            case "relabel" -> Action.RELABEL;
            default -> null;
        };
    }

    private static String normalisedInput(ObjectNode json, DatasetFormat f) {
        String input = RowFields.input(json, f);
        return NormalisedText.of(input != null ? input : RowFields.answer(json, f));
    }

    /** Equal after collapsing whitespace: spreadsheets rewrite line breaks and trailing spaces. */
    private static boolean sameText(String sheet, String file) {
        return collapse(sheet).equals(collapse(file == null ? "" : file));
    }

    private static String collapse(String s) {
        return s.strip().replaceAll("\\s+", " ");
    }
}
