package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `jtune eval` end to end: exit codes, --json on stdout, human text on stderr, reports in --out. */
class EvalCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void scoresComparesGatesAndWritesReports() throws Exception {
        StringBuilder base = new StringBuilder(), cand = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            String ref = i % 2 == 0 ? "yes" : "no";
            base.append("{\"id\":\"").append(i).append("\",\"reference\":\"").append(ref).append("\",\"prediction\":\"")
                    .append(i % 4 == 0 ? "no" : ref).append("\"}\n");
            cand.append("{\"id\":\"").append(i).append("\",\"reference\":\"").append(ref).append("\",\"prediction\":\"")
                    .append(i == 3 ? "maybe" : ref + ".").append("\"}\n");
        }
        Path b = write("base.jsonl", base.toString()), c = write("cand.jsonl", cand.toString());
        Path pass = write("pass.yaml", "rules:\n  - accuracy >= 0.9\n  - accuracy.delta > 0\n");
        Path out = dir.resolve("report");
        Run r = run("eval", "--predictions", c.toString(), "--baseline", b.toString(), "--gate", pass.toString(),
                "--task", "classification", "--out", out.toString(), "--json", "--resamples", "200");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(1, r.out().strip().split("\n").length, "one JSON line");
        assertEquals(39.0 / 40, json.get("metrics").get("accuracy").asDouble(), 1e-15);
        assertEquals(0.75, json.get("comparison").get("baseline").get("accuracy").asDouble(), 1e-15);
        assertTrue(json.get("gate").get("passed").asBoolean());
        assertTrue(r.err().contains("gate PASSED"), r.err());
        assertTrue(Files.exists(out.resolve("eval_report.html")) && Files.exists(out.resolve("metrics.json")));

        Path fail = write("fail.yaml", "- accuracy >= 0.99\n");
        Run f = run("eval", "--predictions", c.toString(), "--gate", fail.toString(), "--task", "classification");
        assertEquals(1, f.exit(), f.err());
        assertTrue(f.err().contains("[FAIL] accuracy >= 0.99"), f.err());
        assertTrue(f.err().contains("invalid_rate"), f.err());
        // without --task and without labels the task is inferred as generation, where accuracy is unknown
        Run inferred = run("eval", "--predictions", c.toString(), "--gate", fail.toString());
        assertEquals(1, inferred.exit());
        assertTrue(inferred.err().contains("[ERROR] accuracy >= 0.99") && inferred.err().contains("unknown metric"), inferred.err());
    }

    @Test
    void badInputExitsTwoWithFileAndLine() throws Exception {
        Path bad = write("bad.jsonl", "{\"reference\": \"a\", \"prediction\": \"a\"}\n{\"reference\": \"a\"}\n");
        Run r = run("eval", "--predictions", bad.toString(), "--task", "generation");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("bad.jsonl:2: missing field \"prediction\""), r.err());
        assertEquals("", r.out());
        Run m = run("eval", "--model", "m", "--data", "d.jsonl");
        assertEquals(2, m.exit());
        assertTrue(m.err().contains("test set d.jsonl does not exist"), m.err());
        assertEquals(2, run("eval").exit());
        Path ok = write("ok.jsonl", "{\"reference\": \"a\", \"prediction\": \"a\"}\n");
        Run t = run("eval", "--predictions", ok.toString(), "--task", "sentiment");
        assertEquals(2, t.exit());
        assertTrue(t.err().contains("unknown task 'sentiment'"), t.err());
    }

    @Test
    void generationAndExtractionPrintMetrics() throws Exception {
        Path gen = write("gen.jsonl", "{\"reference\": \"The cat sat on the mat.\", \"prediction\": \"The cat sat on a mat.\"}\n");
        Run g = run("eval", "--predictions", gen.toString(), "--json", "--rouge-stemmer");
        assertEquals(0, g.exit(), g.err());
        JsonNode j = new ObjectMapper().readTree(g.out());
        assertEquals("generation", j.get("task").asText());
        assertTrue(j.get("metrics").get("bleu").asDouble() > 0);
        Path ext = write("ext.jsonl", "{\"reference\": {\"a\": 1}, \"prediction\": \"{\\\"a\\\": 1}\"}\n");
        Run e = run("eval", "--predictions", ext.toString(), "--json");
        assertEquals(0, e.exit(), e.err());
        assertEquals("extraction", new ObjectMapper().readTree(e.out()).get("task").asText());
    }

    @Test
    void bertScoreWithAFixedScorerModel() throws Exception {
        Path stories = org.jtune.testing.SharedData.require("models/stories260K");
        Path gen = write("gen.jsonl", "{\"reference\": \"The cat sat on the mat.\", \"prediction\": \"The cat sat on the mat.\"}\n"
                + "{\"reference\": \"Lily found a red ball.\", \"prediction\": \"Tom was sad.\"}\n");
        Run g = run("eval", "--predictions", gen.toString(), "--json", "--bertscore-model", stories.toString(), "--bertscore-idf");
        assertEquals(0, g.exit(), g.err());
        JsonNode j = new ObjectMapper().readTree(g.out());
        double f1 = j.get("metrics").get("bertscore_f1").asDouble();
        assertTrue(f1 > 0.5 && f1 < 1, "one answer equal to its reference, one not: " + f1);
        assertEquals("stories260K, layer 3 of 5, idf", j.get("report").get("bertScore").asText());
        Run badLayer = run("eval", "--predictions", gen.toString(), "--bertscore-model", stories.toString(), "--bertscore-layer", "9");
        assertEquals(2, badLayer.exit());
        assertTrue(badLayer.err().contains("--bertscore-layer 9 is outside 1..5"), badLayer.err());
        Run noModel = run("eval", "--predictions", gen.toString(), "--bertscore-idf");
        assertTrue(noModel.exit() == 2 && noModel.err().contains("need --bertscore-model"), noModel.err());
        Run classes = run("eval", "--predictions", gen.toString(), "--task", "classification", "--bertscore-model", stories.toString());
        assertTrue(classes.exit() == 2 && classes.err().contains("scores generation answers"), classes.err());
    }

    @Test
    void humanExportAndImport() throws Exception {
        Path b = write("b.jsonl", "{\"id\":\"1\",\"input\":\"q1\",\"reference\":\"r\",\"prediction\":\"old\"}\n{\"id\":\"2\",\"input\":\"q2\",\"reference\":\"r\",\"prediction\":\"old\"}\n");
        Path c = write("c.jsonl", "{\"id\":\"1\",\"input\":\"q1\",\"reference\":\"r\",\"prediction\":\"new\"}\n{\"id\":\"2\",\"input\":\"q2\",\"reference\":\"r\",\"prediction\":\"new\"}\n");
        Path out = dir.resolve("sheet");
        assertEquals(0, run("eval", "human", "export", "--baseline", b.toString(), "--candidate", c.toString(), "--out", out.toString()).exit());
        Path filled = write("r1.csv", "item,preference\n1,tie\n2,tie\n");
        Run r = run("eval", "human", "import", "--key", out.resolve("key.csv").toString(), filled.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(2, new ObjectMapper().readTree(r.out()).get("ties").asInt());
    }
}
