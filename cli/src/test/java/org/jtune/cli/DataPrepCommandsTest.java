package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.NormalisedText;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The data-preparation commands through picocli: banking77's raw CSV converted, split stratified with
 * no normalised text shared between splits, sampled for review and passed by data check, end to end;
 * broken CSV rows named with file:line; an augmentation sheet from a server and a refused sheet.
 */
class DataPrepCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Set<String> userTexts(Path file) throws Exception {
        Set<String> out = new HashSet<>();
        for (Conversation c : DatasetRows.read(file).examples()) out.add(NormalisedText.of(c.input().getLast().content()));
        return out;
    }

    @Test
    void banking77RawCsvToReviewedSplitsEndToEnd() throws Exception {
        Path csv = SharedData.require("data/banking77/train.csv");
        long t0 = System.nanoTime();
        Path all = dir.resolve("banking77.jsonl");
        Run convert = run("data", "convert", "--input", csv.toString(), "--to", "chat", "--user-column", "text",
                "--assistant-column", "category", "--system", "Classify the banking customer's query into one intent.",
                "--out", all.toString(), "--json");
        assertEquals(0, convert.exit(), convert.err());
        JsonNode c = JSON.readTree(convert.out());
        assertEquals(10003, c.get("converted").asLong());   // PROVENANCE.md: 10003 rows
        assertEquals(0, c.get("rejected").asLong());
        assertEquals("UTF-8 (detected)", c.get("encoding").asText());
        assertTrue(c.get("delimiter").asText().startsWith("','"), c.get("delimiter").asText());
        assertEquals(9, c.get("stripped_values").asLong());  // PROVENANCE.md: 9 train texts with surrounding whitespace

        Path splits = dir.resolve("splits");
        Run split = run("data", "split", "--input", all.toString(), "--ratios", "0.8,0.1,0.1", "--stratify", "--seed", "42",
                "--out-dir", splits.toString(), "--json");
        assertEquals(0, split.exit(), split.err());
        JsonNode s = JSON.readTree(split.out());
        assertEquals(8003, s.at("/splits/train/rows").asLong());
        assertEquals(1000, s.at("/splits/validation/rows").asLong());
        assertEquals(1000, s.at("/splits/test/rows").asLong());
        assertEquals(77, s.get("labels").size());
        s.get("labels").forEach(l -> assertTrue(l.get("validation").asLong() >= 3 && l.get("test").asLong() >= 3, l.toString()));

        // independently of the split's own grouping: no user text, normalised, is in two splits
        Set<String> train = userTexts(splits.resolve("train.jsonl"));
        Set<String> validation = userTexts(splits.resolve("validation.jsonl"));
        Set<String> test = userTexts(splits.resolve("test.jsonl"));
        for (String t : validation) assertFalse(train.contains(t) || test.contains(t), t);
        for (String t : test) assertFalse(train.contains(t), t);

        Path sheet = splits.resolve("review.csv");
        Run sample = run("data", "sample", "--input", splits.resolve("train.jsonl").toString(), "--n", "100", "--seed", "1",
                "--out", sheet.toString());
        assertEquals(0, sample.exit(), sample.err());
        assertEquals(101, new String(Files.readAllBytes(sheet), StandardCharsets.UTF_8).split("\r\n").length);
        assertTrue(Files.exists(splits.resolve("review.html")));

        Run check = run("data", "check", "--data", splits.resolve("train.jsonl").toString(),
                "--validation", splits.resolve("validation.jsonl").toString(), "--json");
        assertEquals(0, check.exit(), check.err());
        JsonNode k = JSON.readTree(check.out());
        assertEquals(0, k.get("errors").asLong());
        assertEquals(0, k.at("/overlap/overlapping").asLong());
        Run checkTest = run("data", "check", "--data", splits.resolve("test.jsonl").toString());
        assertEquals(0, checkTest.exit(), checkTest.err());
        System.err.printf("banking77 convert + split + sample + check: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void brokenCsvRowsAreNamedWithFileAndLine() throws Exception {
        Path csv = dir.resolve("export.csv");
        Files.writeString(csv, "text;queue\nok one;a\nbroken \"quote;b\nmissing\n\"multi\nline\";c\n;d\n");
        Path out = dir.resolve("o.jsonl");
        Run r = run("data", "convert", "--input", csv.toString(), "--to", "completion", "--user-column", "text",
                "--assistant-column", "queue", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("delimiter ';'"), r.err());
        assertTrue(r.err().contains(csv + ":3: error: a quote inside unquoted field 1"), r.err());
        assertTrue(r.err().contains(csv + ":4: error: has 1 field, the header has 2"), r.err());
        assertTrue(r.err().contains(csv + ":7: error: user text: column \"text\" is empty"), r.err());
        assertEquals(2, Files.readAllLines(out).size());
        Run strict = run("data", "convert", "--input", csv.toString(), "--to", "chat", "--user-column", "text",
                "--assistant-column", "queue", "--out", dir.resolve("strict.jsonl").toString(), "--strict");
        assertEquals(1, strict.exit());
        assertFalse(Files.exists(dir.resolve("strict.jsonl")));
        Run unknown = run("data", "convert", "--input", csv.toString(), "--to", "chat", "--user-column", "body",
                "--assistant-column", "queue", "--out", dir.resolve("u.jsonl").toString());
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no column \"body\""), unknown.err());
    }

    @Test
    void augmentFromAServerThenApplyReviewAndARefusedSheet() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) lines.add(row("card " + i + " has not arrived yet", "card_arrival"));
        for (int i = 0; i < 3; i++) lines.add(row("refund number " + i + " please", "request_refund"));
        Path train = dir.resolve("train.jsonl");
        Files.write(train, lines);
        Files.write(dir.resolve("test.jsonl"), List.of(row("I would like a refund for order 12", "request_refund")));

        Map<String, Integer> calls = new HashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String[] replies = {"I would like a refund for order 12", "Can I get my money back?", "Please return my payment."};
        server.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            int n = calls.merge("chat", 1, Integer::sum) - 1;
            String content = replies[n % replies.length];
            byte[] b = ("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":" + JSON.writeValueAsString(content) + "}}]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try {
            Path sheet = dir.resolve("aug.csv");
            Run aug = run("data", "augment", "--input", train.toString(), "--per-label-below", "5", "--n", "2",
                    "--server", "http://127.0.0.1:" + server.getAddress().getPort(), "--model-name", "m", "--out", sheet.toString(), "--json");
            assertEquals(0, aug.exit(), aug.err());
            JsonNode report = JSON.readTree(aug.out());
            assertEquals(2, report.at("/labels/request_refund/kept").asInt());
            assertEquals(1, report.at("/labels/request_refund/rejected/leaks_holdout").asInt());
            assertTrue(report.get("holdouts").get(0).asText().endsWith("test.jsonl"));

            // approve the first candidate only
            List<String> sheetLines = new ArrayList<>(List.of(Files.readString(sheet).split("\r\n")));
            sheetLines.set(1, sheetLines.get(1).replace(",,,,,", ",keep,,,,"));
            Path marked = dir.resolve("aug-marked.csv");
            Files.writeString(marked, String.join("\r\n", sheetLines) + "\r\n");
            Path out = dir.resolve("train.v2.jsonl");
            Run apply = run("data", "apply-review", "--input", train.toString(), "--sheet", marked.toString(), "--out", out.toString(), "--json");
            assertEquals(0, apply.exit(), apply.err());
            assertEquals(1, JSON.readTree(apply.out()).get("added").asInt());
            assertEquals(14, Files.readAllLines(out).size());
            Run check = run("data", "check", "--data", out.toString());
            assertTrue(check.err().contains("1 augmented rows"), check.err());

            // the sheet no longer matches a changed file
            Files.write(train, lines.subList(1, lines.size()));
            Run refused = run("data", "apply-review", "--input", train.toString(), "--sheet", marked.toString(),
                    "--out", dir.resolve("v3.jsonl").toString());
            assertEquals(1, refused.exit(), refused.err());
            assertTrue(refused.err().contains("does not match"), refused.err());
            assertFalse(Files.exists(dir.resolve("v3.jsonl")));
        } finally {
            server.stop(0);
        }
    }

    private static String row(String user, String label) {
        var o = JSON.createObjectNode();
        var m = o.putArray("messages");
        m.addObject().put("role", "user").put("content", user);
        m.addObject().put("role", "assistant").put("content", label);
        return o.toString();
    }
}
