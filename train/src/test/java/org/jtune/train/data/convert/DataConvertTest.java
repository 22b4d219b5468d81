package org.jtune.train.data.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.data.Issue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Conversion of CSV/TSV/JSON/JSONL sources: every bad row named with file:line and why, output that data check passes. */
class DataConvertTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private ConvertOptions.Builder chat(Path in, Path out) throws JtuneException {
        return ConvertOptions.builder(in, out, TargetFormat.CHAT)
                .user(FieldTemplate.column("text")).assistant(FieldTemplate.column("category"))
                .system(FieldTemplate.literal("Classify the {banking} query."));
    }

    private static List<JsonNode> rows(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) out.add(JSON.readTree(l));
        return out;
    }

    @Test
    void brokenCsvRowsAreListedWithFileAndLineAndWrittenNowhere() throws Exception {
        Path in = dir.resolve("tickets.csv");
        Files.writeString(in, String.join("\r\n",
                "text,category",                                 // 1 header
                "My card is lost,lost_card",                     // 2 ok
                "\"Where is my card?\nIt has been a week\",card_arrival", // 3-4 ok (two physical lines)
                "no label here",                                  // 5 one field
                "too,many,fields",                                // 6 three fields
                "\"bad \"quote\",x",                              // 7 text after closing quote
                "   ,empty_text",                                 // 8 empty user text
                "Refund please,",                                 // 9 empty label
                "\"She said \"\"stop\"\"\",dispute",              // 10 ok
                "\"never closed,y"));                             // 11 never closed
        Path out = dir.resolve("out.jsonl");
        ConvertReport r = DataConvert.run(chat(in, out).build());

        assertEquals(9, r.records());
        assertEquals(3, r.converted());
        List<String> where = new ArrayList<>();
        for (Issue i : r.rejected()) where.add(i.file().getFileName() + ":" + i.line());
        assertEquals(List.of("tickets.csv:5", "tickets.csv:6", "tickets.csv:7", "tickets.csv:8", "tickets.csv:9", "tickets.csv:11"), where);
        assertTrue(r.rejected().get(0).message().contains("has 1 field, the header has 2"), r.rejected().get(0).message());
        assertTrue(r.rejected().get(3).message().contains("user text: column \"text\" is empty"), r.rejected().get(3).message());
        assertTrue(r.rejected().get(4).message().contains("assistant text: column \"category\" is empty"));
        assertTrue(r.rejected().get(0).toString().startsWith(in + ":5: error: "), r.rejected().get(0).toString());
        assertTrue(r.text(50).contains(in + ":11: error: the quoted field opened on line 11 is never closed"), r.text(50));

        List<JsonNode> rows = rows(out);
        assertEquals(3, rows.size());
        assertEquals("Classify the {banking} query.", rows.get(0).at("/messages/0/content").asText());
        assertEquals("Where is my card?\nIt has been a week", rows.get(1).at("/messages/1/content").asText());
        assertEquals("card_arrival", rows.get(1).at("/messages/2/content").asText());
        assertEquals("She said \"stop\"", rows.get(2).at("/messages/1/content").asText());
        for (JsonNode row : rows) for (JsonNode m : row.get("messages")) assertFalse(m.get("content").asText().contains("lost_card,"));

        DataCheckReport check = DataCheck.run(out);
        assertTrue(check.passed(), () -> DataCheckText.render(check, 20));
        try (var files = Files.list(dir)) {
            assertEquals(List.of("out.jsonl", "tickets.csv"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void strictWritesNothingWhenARowIsRejected() throws Exception {
        Path in = dir.resolve("t.csv");
        Files.writeString(in, "text,category\nfine,a\nbroken\n");
        Path out = dir.resolve("out.jsonl");
        ConvertReport r = DataConvert.run(chat(in, out).strict(true).build());
        assertFalse(r.written());
        assertEquals(1, r.rejected().size());
        assertFalse(Files.exists(out));
    }

    @Test
    void templatesAlpacaAndCompletionFromTsvInLatin1() throws Exception {
        Path in = dir.resolve("export.tsv");
        Files.write(in, "subject\tbody\tqueue\tnotes\nCarte perdue\tJ'ai perdu ma carte à Zürich\tcards\t\nFee\tWhy 2 EUR?\tfees\tvip\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        Path alpaca = dir.resolve("alpaca.jsonl");
        ConvertReport r = DataConvert.run(ConvertOptions.builder(in, alpaca, TargetFormat.ALPACA)
                .user(FieldTemplate.parse("Route this ticket.\\nSubject: {subject}", "--user-template"))
                .alpacaInput(FieldTemplate.column("notes"))
                .assistant(FieldTemplate.column("queue")).build());
        // 'à' as the single byte 0xE0 is not UTF-8: the report says Latin-1 was a fallback and where
        assertTrue(r.encoding().startsWith("ISO-8859-1 (fallback: byte 0xE0 on line 2"), r.encoding());
        assertTrue(r.delimiter().startsWith("TAB (detected"), r.delimiter());
        assertEquals(2, r.converted());
        List<JsonNode> rows = rows(alpaca);
        assertEquals("Route this ticket.\nSubject: Carte perdue", rows.get(0).get("instruction").asText());
        assertEquals("", rows.get(0).get("input").asText());
        assertEquals("vip", rows.get(1).get("input").asText());
        assertEquals("cards", rows.get(0).get("output").asText());
        assertTrue(DataCheck.run(alpaca).passed());

        Path completion = dir.resolve("completion.jsonl");
        DataConvert.run(ConvertOptions.builder(in, completion, TargetFormat.COMPLETION)
                .user(FieldTemplate.parse("{subject}: {body} ->", "--user-template"))
                .assistant(FieldTemplate.parse(" {queue}", "--assistant-template")).strip(false).build());
        JsonNode first = rows(completion).getFirst();
        assertEquals("Carte perdue: J'ai perdu ma carte à Zürich ->", first.get("prompt").asText());
        assertEquals(" cards", first.get("completion").asText());
        assertTrue(DataCheck.run(completion).passed());
    }

    @Test
    void jsonArrayAndJsonLinesWithNestedFields() throws Exception {
        Path array = dir.resolve("tickets.json");
        Files.writeString(array, """
                [
                  {"ticket": {"body": "card stuck in ATM"}, "queue": "atm"},
                  {"ticket": {"body": "where is my refund"}, "queue": 7},
                  "not an object",
                  {"ticket": {"body": ["a", "b"]}, "queue": "x"},
                  {"queue": "nobody"}
                ]
                """);
        Path out = dir.resolve("a.jsonl");
        ConvertReport r = DataConvert.run(ConvertOptions.builder(array, out, TargetFormat.CHAT)
                .user(FieldTemplate.column("ticket.body")).assistant(FieldTemplate.column("queue")).build());
        assertEquals(SourceTable.Kind.JSON, r.kind());
        assertEquals(2, r.converted());
        assertEquals(List.of(4L, 5L, 6L), r.rejected().stream().map(Issue::line).toList());
        assertTrue(r.rejected().get(1).message().contains("field \"ticket.body\" is an array"), r.rejected().get(1).message());
        assertTrue(r.rejected().get(2).message().contains("no field \"ticket.body\""));
        assertEquals("7", rows(out).get(1).at("/messages/1/content").asText());

        Path lines = dir.resolve("tickets.jsonl");
        Files.writeString(lines, "{\"q\":\"hello\",\"a\":\"hi\"}\n{broken\n\n{\"q\":\"bye\",\"a\":\"ciao\"}\n");
        ConvertReport l = DataConvert.run(ConvertOptions.builder(lines, dir.resolve("l.jsonl"), TargetFormat.CHAT)
                .user(FieldTemplate.column("q")).assistant(FieldTemplate.column("a")).build());
        assertEquals(2, l.converted());
        assertEquals(1, l.blankLines());
        assertEquals(2, l.rejected().getFirst().line());
        assertTrue(l.rejected().getFirst().message().startsWith("bad JSON"));
    }

    @Test
    void unknownColumnsAndBadTemplatesAreRefusedBeforeReadingRows() throws Exception {
        Path in = dir.resolve("t.csv");
        Files.writeString(in, "text,category\nhello,a\n");
        JtuneException e = assertThrows(JtuneException.class, () -> DataConvert.run(ConvertOptions.builder(in, dir.resolve("o.jsonl"), TargetFormat.CHAT)
                .user(FieldTemplate.column("txt")).assistant(FieldTemplate.column("category")).build()));
        assertTrue(e.getMessage().contains("no column \"txt\" in the header; the columns are: text, category"), e.getMessage());
        assertThrows(JtuneException.class, () -> FieldTemplate.parse("Ticket: {text", "--user-template"));
        assertThrows(JtuneException.class, () -> FieldTemplate.parse("no placeholder", "--user-template"));
        assertEquals("a {b} c", FieldTemplate.parse("a {{b}} {c}", "t").fill(
                SourceRow.of(1, java.util.Map.of("c", "c"), null), "user", true, true, new long[1]));
        assertThrows(JtuneException.class, () -> ConvertOptions.builder(in, dir.resolve("o.jsonl"), TargetFormat.COMPLETION)
                .user(FieldTemplate.column("text")).assistant(FieldTemplate.column("category"))
                .system(FieldTemplate.literal("s")).build());
        assertFalse(Files.exists(dir.resolve("o.jsonl")));
    }
}
