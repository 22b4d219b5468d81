package org.jtune.train.data.review;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.jtune.JtuneException;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.data.DatasetRows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sample → mark → apply: drop, fix, relabel and approved candidates only; sheets that do not match are refused. */
class ReviewRoundTripTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String row(String user, String label) {
        var o = JSON.createObjectNode();
        var m = o.putArray("messages");
        m.addObject().put("role", "system").put("content", "Route the ticket.");
        m.addObject().put("role", "user").put("content", user);
        m.addObject().put("role", "assistant").put("content", label);
        return o.toString();
    }

    /** 30 rows, 3 labels of 10; row i is "ticket i <label>". */
    private Path data() throws Exception {
        List<String> lines = new ArrayList<>();
        String[] labels = {"cards", "refunds", "fees"};
        for (int i = 0; i < 30; i++) lines.add(row("ticket " + i + " about <" + labels[i % 3] + "> & more", labels[i % 3]));
        Path f = dir.resolve("train.jsonl");
        Files.write(f, lines);
        return f;
    }

    private static ReviewSheet.Row mark(ReviewSheet.Row r, String action, String correctedInput, String correctedAnswer,
                                        String newLabel, String note) {
        return new ReviewSheet.Row(r.kind(), r.line(), r.rowHash(), r.input(), r.answer(), r.context(), r.sourceInput(), action,
                correctedInput, correctedAnswer, newLabel, note, 0);
    }

    private Path rewrite(Path sheet, String name, UnaryOperator<List<ReviewSheet.Row>> change) throws Exception {
        Path out = dir.resolve(name);
        ReviewSheet.write(out, change.apply(new ArrayList<>(ReviewSheet.read(sheet))), "marked");
        return out;
    }

    @Test
    void sampleIsSeededAndCarriesLineHashInputAndAnswer() throws Exception {
        Path in = data();
        DataSample.Result r = DataSample.run(in, dir.resolve("a.csv"), 5, 0, 9);
        assertEquals(5, r.rows());
        DataSample.run(in, dir.resolve("b.csv"), 5, 0, 9);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.csv")), Files.readAllBytes(dir.resolve("b.csv")));
        DatasetRows rows = DatasetRows.read(in);
        List<ReviewSheet.Row> sheet = ReviewSheet.read(dir.resolve("a.csv"));
        long previous = 0;
        for (ReviewSheet.Row s : sheet) {
            assertTrue(s.line() > previous);
            previous = s.line();
            assertEquals(DatasetRows.hash(rows.line(s.line())), s.rowHash());
            assertEquals(rows.examples().get((int) s.line() - 1).finalAnswer().orElseThrow(), s.answer());
            assertTrue(s.input().startsWith("ticket "), s.input());
        }
        String html = Files.readString(dir.resolve("a.html"));
        assertTrue(html.contains("about &lt;") && !html.contains("about <"), html);

        DataSample.Result perLabel = DataSample.run(in, dir.resolve("p.csv"), 0, 2, 9);
        assertEquals(6, perLabel.rows());
        assertEquals(3, perLabel.labels());
        Map<String, Long> counts = ReviewSheet.read(dir.resolve("p.csv")).stream()
                .collect(Collectors.groupingBy(ReviewSheet.Row::answer, Collectors.counting()));
        assertEquals(Map.of("cards", 2L, "refunds", 2L, "fees", 2L), counts);
    }

    @Test
    void applyDropsFixesRelabelsAndAddsOnlyApprovedCandidates() throws Exception {
        Path in = data();
        DataSample.run(in, dir.resolve("s.csv"), 4, 0, 3);
        DatasetRows rows = DatasetRows.read(in);
        String source = rows.line(1);   // "ticket 0 about <cards> & more" -> cards
        Path marked = rewrite(dir.resolve("s.csv"), "marked.csv", sheet -> {
            List<ReviewSheet.Row> out = new ArrayList<>();
            out.add(mark(sheet.get(0), "drop", "", "", "", "off-topic"));
            out.add(mark(sheet.get(1), "Fix", "  a corrected ticket  ", "", "", ""));
            out.add(mark(sheet.get(2), "relabel", "", "", "refunds", "was wrong"));
            out.add(sheet.get(3));
            out.add(mark(ReviewSheet.candidate(1, source, "where is my new card", "cards", "ticket 0", ""), "keep", "", "", "", "good"));
            out.add(ReviewSheet.candidate(1, source, "once upon a time there was a card", "cards", "ticket 0", ""));
            out.add(mark(ReviewSheet.candidate(1, source, "a dragon ate my card", "cards", "ticket 0", ""), "drop", "", "", "", ""));
            out.add(mark(ReviewSheet.candidate(1, source, "Ticket 5 about <fees> & more!", "cards", "ticket 0", ""), "keep", "", "", "", ""));
            out.add(mark(ReviewSheet.candidate(1, source, "card never came", "cards", "ticket 0", ""), "relabel", "", "", "fees", ""));
            return out;
        });
        List<ReviewSheet.Row> sheet = ReviewSheet.read(marked);
        Path out = dir.resolve("train.v2.jsonl");
        ApplyReview.Result r = ApplyReview.run(in, marked, out, ApplyReview.defaultChangeLog(out));

        assertEquals(1, r.dropped());
        assertEquals(1, r.fixed());
        assertEquals(1, r.relabeled());
        assertEquals(2, r.added());
        assertEquals(2, r.candidatesNotApproved());
        assertEquals(1, r.candidatesDuplicate());   // the one equal to ticket 5 after normalising
        List<String> lines = Files.readAllLines(out);
        assertEquals(30 - 1 + 2, lines.size());
        assertFalse(lines.contains(rows.line(sheet.get(0).line())));
        JsonNode fixedRow = JSON.readTree(lines.get((int) sheet.get(1).line() - 2));   // one line above it was dropped
        assertEquals("a corrected ticket", fixedRow.at("/messages/1/content").asText());
        assertEquals("Route the ticket.", fixedRow.at("/messages/0/content").asText());
        JsonNode relabeled = JSON.readTree(lines.get((int) sheet.get(2).line() - 2));
        assertEquals("refunds", relabeled.at("/messages/2/content").asText());
        JsonNode added = JSON.readTree(lines.get(29));
        assertEquals("where is my new card", added.at("/messages/1/content").asText());
        assertEquals("cards", added.at("/messages/2/content").asText());
        assertTrue(added.get("augmented").asBoolean());
        assertEquals(1, added.get("augmented_from").asLong());
        assertEquals("fees", JSON.readTree(lines.get(30)).at("/messages/2/content").asText());
        assertTrue(String.join("\n", lines).indexOf("once upon a time") < 0);
        assertTrue(String.join("\n", lines).indexOf("dragon") < 0);

        List<String> log = Files.readAllLines(dir.resolve("train.v2.changes.jsonl"));
        assertEquals("summary", JSON.readTree(log.get(0)).get("type").asText());
        assertEquals(List.of("drop", "fix", "relabel", "add", "skip_duplicate", "add"),
                log.subList(1, log.size()).stream().map(l -> {
                    try {
                        return JSON.readTree(l).get("action").asText();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }).toList());
        assertTrue(log.get(1).contains("\"note\":\"off-topic\""));

        DataCheckReport check = DataCheck.run(out);
        assertTrue(check.passed(), () -> DataCheckText.render(check, 20));
        assertEquals(2, check.files().getFirst().augmented());
        assertTrue(DataCheckText.render(check, 5).contains("2 augmented rows"));
    }

    @Test
    void valuesASpreadsheetWouldRunAsFormulasAreEscapedAndReadBack() throws Exception {
        List<String> texts = List.of("=HYPERLINK(\"http://x\")", "-5 fee on my card", "'=already quoted", "@here", "plain 'text'");
        List<ReviewSheet.Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(ReviewSheet.example(i + 1, "h", texts.get(i), "+1", ""));
        Path sheet = dir.resolve("f.csv");
        ReviewSheet.write(sheet, rows, "formulas");
        String csv = Files.readString(sheet);
        assertTrue(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\"") && csv.contains("'-5 fee") && csv.contains("''=already")
                && csv.contains("'@here") && csv.contains(",plain 'text',") && csv.contains(",'+1,"), csv);
        List<ReviewSheet.Row> back = ReviewSheet.read(sheet);
        assertEquals(texts, back.stream().map(ReviewSheet.Row::input).toList());
        back.forEach(r -> assertEquals("+1", r.answer()));
    }

    @Test
    void aSheetThatDoesNotMatchTheFileIsRefusedAndNothingIsWritten() throws Exception {
        Path in = data();
        DataSample.run(in, dir.resolve("s.csv"), 3, 0, 1);
        Path out = dir.resolve("out.jsonl");

        Path edited = rewrite(dir.resolve("s.csv"), "edited.csv", s -> {
            ReviewSheet.Row r = s.get(0);
            s.set(0, new ReviewSheet.Row(r.kind(), r.line(), r.rowHash(), "changed in place", r.answer(), "", "", "keep", "", "", "", "", 0));
            s.set(1, mark(s.get(1), "fix", "", "", "", ""));
            s.set(2, mark(s.get(2), "archive", "", "", "", ""));
            return s;
        });
        JtuneException e = assertThrows(JtuneException.class, () -> ApplyReview.run(in, edited, out, dir.resolve("log.jsonl")));
        assertTrue(e.getMessage().contains("edited.csv:2: the input column was edited"), e.getMessage());
        assertTrue(e.getMessage().contains("edited.csv:3: fix needs corrected_input or corrected_answer"), e.getMessage());
        assertTrue(e.getMessage().contains("edited.csv:4: action \"archive\""), e.getMessage());

        // the file changes after sampling: the sheet's hashes no longer match
        List<String> lines = new ArrayList<>(Files.readAllLines(in));
        long first = ReviewSheet.read(dir.resolve("s.csv")).getFirst().line();
        lines.set((int) first - 1, row("ticket rewritten", "cards"));
        Path changed = dir.resolve("changed.jsonl");
        Files.write(changed, lines);
        e = assertThrows(JtuneException.class, () -> ApplyReview.run(changed, dir.resolve("s.csv"), out, dir.resolve("log.jsonl")));
        assertTrue(e.getMessage().contains("s.csv:2: row_hash") && e.getMessage().contains("another version of the file"), e.getMessage());

        Path candidate = rewrite(dir.resolve("s.csv"), "cand.csv", s -> {
            ReviewSheet.Row c = ReviewSheet.candidate(s.get(0).line(), "another line", "text", s.get(0).answer(), "", "");
            s.add(mark(c, "keep", "", "", "", ""));
            return s;
        });
        e = assertThrows(JtuneException.class, () -> ApplyReview.run(in, candidate, out, dir.resolve("log.jsonl")));
        assertTrue(e.getMessage().contains("cand.csv:5: row_hash"), e.getMessage());

        assertThrows(JtuneException.class, () -> ApplyReview.run(in, dir.resolve("s.csv"), in, dir.resolve("log.jsonl")));
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("log.jsonl")));
    }
}
