package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `jtune data check` end to end through picocli: exit codes, stderr report, --json on stdout. */
class DataCheckCommandTest {
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

    @Test
    void banking15PassesAndReportsFifteenLabels() throws Exception {
        Path d = SharedData.require("data/banking15");
        Run r = run("data", "check", "--data", d.resolve("train.jsonl").toString(),
                "--validation", d.resolve("validation.jsonl").toString(), "--sequence-len", "256", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().strip().lines().count());          // one JSON object, one line
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("passed").asBoolean());
        assertEquals(0, json.get("errors").asLong());
        assertEquals(15, json.at("/files/0/labels/distinct").asInt());
        assertEquals(2341, json.at("/files/0/examples").asLong());
        assertEquals(256, json.at("/files/0/tokens/sequence_len").asInt());
        assertEquals(261, json.at("/overlap/validation_examples").asLong());
        assertTrue(r.err().contains("labels: 15 distinct"), r.err());
        assertTrue(r.err().contains("PASSED: 0 errors"), r.err());
    }

    @Test
    void aRecipesSystemMessageIsCountedAsTrainingRendersIt() throws Exception {
        Path model = SharedData.require("models/stories260K");
        String longSystem = "You sort requests. ".repeat(60); // ~480 tokens: over 128 with it, well under without
        Path data = dir.resolve("long-system.jsonl");
        Files.writeString(data, ("{\"messages\":[{\"role\":\"system\",\"content\":\"" + longSystem + "\"},{\"role\":\"user\",\"content\":\"card lost\"},"
                + "{\"role\":\"assistant\",\"content\":\"lost_card\"}]}\n").repeat(3));
        String recipe = "base_model: " + model + "\nchat_template: chatml\nsequence_len: 128\ndatasets:\n  - path: " + data + "\n    type: chat\n";
        Path keeps = Files.writeString(dir.resolve("keeps.yaml"), recipe);
        Path replaces = Files.writeString(dir.resolve("replaces.yaml"), recipe + "system_message: Classify the intent.\n");
        JsonNode kept = new ObjectMapper().readTree(run("data", "check", "--data", data.toString(), "--recipe", keeps.toString(), "--json").out());
        JsonNode replaced = new ObjectMapper().readTree(run("data", "check", "--data", data.toString(), "--recipe", replaces.toString(), "--json").out());
        assertEquals(3, kept.at("/files/0/tokens/over_sequence_len").asLong(), kept.toString());
        assertEquals(0, replaced.at("/files/0/tokens/over_sequence_len").asLong(), replaced.toString());
    }

    @Test
    void brokenFileExitsOneAndNamesTheLines() throws Exception {
        Path f = dir.resolve("broken.jsonl");
        Files.writeString(f, """
                {"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}
                {"messages":[{"role":"user","content":"hi"}
                {"messages":[{"role":"user","content":"a"},{"role":"assistant","content":""}]}
                """);
        Run r = run("data", "check", "--data", f.toString(), "--json", "--max-issues", "1");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains(f + ":2: error: bad JSON"), r.err());
        assertTrue(r.err().contains("... and 1 more"), r.err());      // the cap applies to printing only
        assertTrue(r.err().contains("FAILED: 2 errors"), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(2, json.get("errors").asLong());
        assertEquals(1, json.get("issue_counts").get("empty_content").asLong());
        assertEquals(1, json.get("issues").size());
        assertEquals(2, json.at("/issues/0/line").asLong());
        assertEquals(1, json.get("issues_omitted").asLong());
    }

    @Test
    void warningsAloneExitZero() throws Exception {
        Path f = dir.resolve("dups.jsonl");
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n";
        Files.writeString(f, line + line);
        Run r = run("data", "check", "--data", f.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.out());                                     // no --json: nothing on stdout
        assertTrue(r.err().contains(f + ":2: warning: exact duplicate of line 1"), r.err());
    }

    @Test
    void cannotRunExitsTwo() throws Exception {
        Run missing = run("data", "check", "--data", dir.resolve("nope.jsonl").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("nope.jsonl: no such file"), missing.err());

        Path f = dir.resolve("ok.jsonl");
        Files.writeString(f, "{\"text\":\"hello\"}\n");
        assertEquals(2, run("data", "check", "--data", f.toString(), "--format", "csv").exit());
        assertEquals(2, run("data", "check", "--data", f.toString(), "--model", dir.resolve("no-model").toString()).exit());
        assertEquals(2, run("data", "check").exit());                  // --data is required
    }

    @Test
    void modelTokenizerCountsTokens() throws Exception {
        Path model = org.jtune.testing.SharedData.require("models/stories260K");
        Path f = dir.resolve("ok.jsonl");
        Files.writeString(f, "{\"text\":\"hello there\"}\n");
        Run r = run("data", "check", "--data", f.toString(), "--model", model.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals("tokenizer of stories260K", json.at("/files/0/tokens/counter").asText());
        assertEquals("text", json.at("/files/0/format").asText());
        assertTrue(json.at("/files/0/tokens/max").asInt() > 2, "a 512-token vocabulary splits words: " + json.at("/files/0/tokens"));
    }
}
