package org.jtune.eval.human;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HumanEvalTest {
    @TempDir
    Path dir;

    static List<Prediction> answers(String prefix, int n) {
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(Prediction.of("id" + i, "question, \"" + i + "\"\nline 2", "ref " + i, prefix + " " + i));
        return out;
    }

    @Test
    void csvRoundTripsQuotesCommasAndNewlines() throws JtuneException {
        String text = Csv.row(List.of("a,b", "say \"hi\"", "two\nlines", "")) + Csv.row(List.of("x"));
        List<Csv.Row> rows = Csv.parse("\uFEFF" + text, "t.csv");
        assertEquals(List.of("a,b", "say \"hi\"", "two\nlines", ""), rows.get(0).fields());
        assertEquals(3, rows.get(1).line());
        assertThrows(JtuneException.class, () -> Csv.parse("\"open", "t.csv"));
    }

    @Test
    void exportIsBlindSeededAndImportRecoversPreferences() throws Exception {
        List<Prediction> base = answers("base", 20), cand = answers("cand", 20);
        BlindPairSheet.export(base, cand, null, 7, dir);
        assertTrue(Files.exists(dir.resolve("sheet.html")));
        assertTrue(Files.readString(dir.resolve("sheet.html")).contains("<form"));
        List<BlindPairSheet.Item> items = BlindPairSheet.layout(base, cand, 7);
        assertEquals(items, BlindPairSheet.layout(base, cand, 7));
        assertNotEquals(items, BlindPairSheet.layout(base, cand, 8));
        long candFirst = items.stream().filter(BlindPairSheet.Item::candidateFirst).count();
        assertTrue(candFirst > 3 && candFirst < 17, "sides are randomised: " + candFirst);
        List<Csv.Row> sheet = Csv.parse(Files.readString(dir.resolve("sheet.csv")), "sheet.csv");
        assertEquals(21, sheet.size());
        assertTrue(sheet.get(1).fields().get(1).contains("\nline 2"));
        // rater A always prefers the candidate; rater B does too except for ties on items 1-5
        StringBuilder a = new StringBuilder("item,preference,comment,rater\r\n"), b = new StringBuilder("item,preference\r\n");
        for (BlindPairSheet.Item it : items) {
            String candSide = it.candidateFirst() ? "1" : "2";
            a.append(it.item()).append(',').append(candSide).append(",,alice\r\n");
            b.append(it.item()).append(',').append(it.item() <= 5 ? "tie" : candSide).append("\r\n");
        }
        Path fa = dir.resolve("a.csv"), fb = dir.resolve("bob.csv");
        Files.writeString(fa, a);
        Files.writeString(fb, b);
        HumanEvalResult r = RatingImport.read(dir.resolve("key.csv"), List.of(fa, fb));
        assertEquals(List.of("alice", "bob"), r.raters());
        assertEquals(35, r.candidateWins());
        assertEquals(5, r.ties());
        assertEquals(0, r.baselineWins());
        assertEquals(35.0 / 40, r.winRate(), 1e-15);
        assertEquals(37.5 / 40, r.winRateTiesHalf(), 1e-15);
        // one rater used one category only: chance agreement for kappa is p_e = 0.75 * 1 -> kappa 0
        assertEquals(0.0, r.cohenKappa(), 1e-15);
        assertTrue(Double.isFinite(r.krippendorffAlpha()));
    }

    @Test
    void badSheetsNameFileAndLine() throws Exception {
        BlindPairSheet.export(answers("b", 3), answers("c", 3), "Be fair.", 1, dir);
        Path s = dir.resolve("r.csv");
        Files.writeString(s, "item,preference\n1,2\n2,maybe\n");
        JtuneException e = assertThrows(JtuneException.class, () -> RatingImport.read(dir.resolve("key.csv"), List.of(s)));
        assertTrue(e.getMessage().contains("r.csv:3") && e.getMessage().contains("maybe"), e.getMessage());
        Files.writeString(s, "item,preference\n9,1\n");
        e = assertThrows(JtuneException.class, () -> RatingImport.read(dir.resolve("key.csv"), List.of(s)));
        assertTrue(e.getMessage().contains("r.csv:2: item '9'"), e.getMessage());
        Files.writeString(s, "item,score\n1,1\n");
        e = assertThrows(JtuneException.class, () -> RatingImport.read(dir.resolve("key.csv"), List.of(s)));
        assertTrue(e.getMessage().contains("missing column 'preference'"), e.getMessage());
        assertThrows(JtuneException.class, () -> BlindPairSheet.export(answers("b", 3), answers("c", 2), null, 1, dir));
    }
}
