package org.jtune.train.data.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 4180 records: quoting, doubled quotes, line breaks inside quotes, physical start lines, and recovery after a broken record. */
class CsvParserTest {

    private static List<CsvParser.Record> all(String text, char delimiter) {
        CsvParser p = new CsvParser(text, delimiter);
        List<CsvParser.Record> out = new ArrayList<>();
        CsvParser.Record r;
        while ((r = p.next()) != null) out.add(r);
        return out;
    }

    @Test
    void quotedFieldsHoldDelimitersDoubledQuotesAndLineBreaks() {
        String text = "text,category\r\n"
                + "\"Hello, world\",greet\r\n"
                + "\"She said \"\"hi\"\"\",quote\r\n"
                + "\"two\r\nlines\nthree\",multi\n"
                + "plain,last";
        List<CsvParser.Record> rows = all(text, ',');
        assertEquals(5, rows.size());
        assertEquals(List.of("text", "category"), rows.get(0).fields());
        assertEquals(List.of("Hello, world", "greet"), rows.get(1).fields());
        assertEquals(List.of("She said \"hi\"", "quote"), rows.get(2).fields());
        assertEquals(List.of("two\nlines\nthree", "multi"), rows.get(3).fields());
        assertEquals(List.of("plain", "last"), rows.get(4).fields());
        assertEquals(List.of(1L, 2L, 3L, 4L, 7L), rows.stream().map(CsvParser.Record::line).toList());
    }

    @Test
    void emptyFieldsTrailingDelimiterAndLoneCarriageReturns() {
        List<CsvParser.Record> rows = all("a;;b;\r\"\";x\r", ';');
        assertEquals(List.of("a", "", "b", ""), rows.get(0).fields());
        assertEquals(List.of("", "x"), rows.get(1).fields());
        assertEquals(2, rows.get(1).line());
    }

    @Test
    void blankLinesAreSkippedAndCounted() {
        CsvParser p = new CsvParser("a,b\n\n   \n1,2\n\n", ',');
        assertEquals(1, p.next().line());
        CsvParser.Record r = p.next();
        assertEquals(4, r.line());
        assertNull(p.next());
        assertEquals(3, p.blankLines());
    }

    @Test
    void brokenRecordsAreReportedAtTheirStartLineAndReadingResumesOnTheNextLine() {
        String text = String.join("\n",
                "text,label",                       // 1
                "fine,a",                           // 2
                "say \"hi\" there,b",               // 3 quote inside an unquoted field
                "\"closed\"junk,c",                 // 4 text after the closing quote
                "ok again,d",                       // 5
                "\"never closed,e",                 // 6 quoted field never closed (runs to the end)
                "last,f");                          // 7
        List<CsvParser.Record> rows = all(text, ',');
        List<String> summary = new ArrayList<>();
        for (CsvParser.Record r : rows) summary.add(r.line() + (r.ok() ? ":" + String.join("|", r.fields()) : ":ERROR"));
        assertEquals(List.of("1:text|label", "2:fine|a", "3:ERROR", "4:ERROR", "5:ok again|d", "6:ERROR", "7:last|f"), summary);
        assertTrue(rows.get(2).error().contains("quote inside unquoted field 1"), rows.get(2).error());
        assertTrue(rows.get(3).error().contains("text after the closing quote"), rows.get(3).error());
        assertTrue(rows.get(5).error().contains("opened on line 6 is never closed"), rows.get(5).error());
    }

    @Test
    void aStrayQuoteThatSwallowsLinesLosesOnlyItsOwnLine() {
        // the quote on line 2 runs to the quote on line 4; the record fails there and lines 3 and 4 are read again
        String text = "t,l\n\"stray,a\nmiddle,b\n\"x\",c\n";
        List<CsvParser.Record> rows = all(text, ',');
        assertEquals(4, rows.size());
        assertEquals(2, rows.get(1).line());
        assertTrue(!rows.get(1).ok() && rows.get(1).error().contains("(on line 4)"), rows.get(1).error());
        assertEquals(List.of("middle", "b"), rows.get(2).fields());
        assertEquals(3, rows.get(2).line());
        assertEquals(List.of("x", "c"), rows.get(3).fields());
        assertEquals(4, rows.get(3).line());
    }
}
