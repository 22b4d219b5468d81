package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --json-schema FILE}: stories260K answers with JSON of the schema, ended by the end id ({@code generate}), and
 * {@code eval} scores such answers (restaurant8k's extraction with examples/restaurant8k.schema.json); a keyword that
 * cannot be enforced, a broken schema file, both options at once, or a schema without a model to constrain are one
 * line naming the cause, before the model loads.
 */
class JsonSchemaOptionTest {
    @TempDir
    Path tmp;

    @Test
    void theAnswerIsJsonOfTheSchema() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path schema = Files.writeString(tmp.resolve("ticket.json"), """
                {"type":"object","properties":{"category":{"enum":["billing","card","refund"]},"urgent":{"type":"boolean"},
                 "summary":{"type":"string","maxLength":30}},"required":["category","urgent","summary"],"additionalProperties":false}""");
        CliRun run = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once upon a time", "--json-schema", schema.toString(),
                "--max-new-tokens", "150", "--json");
        assertEquals(0, run.exit(), run.toString());
        JsonNode out = new ObjectMapper().readTree(run.out());
        assertEquals("stop_id", out.get("finish").asText(), run.out());
        JsonNode answer = new ObjectMapper().readTree(out.get("text").asText());
        assertTrue(answer.get("category").isTextual() && answer.get("urgent").isBoolean() && answer.get("summary").asText().length() <= 30, run.out());
        assertEquals(3, answer.size(), run.out());
    }

    @Test
    void whatCannotBeEnforcedIsOneLine() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path pattern = Files.writeString(tmp.resolve("pattern.json"), "{\"type\":\"string\",\"pattern\":\"^a+$\"}");
        CliRun bad = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--json-schema", pattern.toString());
        assertTrue(bad.failedWithOneLine("generate", "pattern.json", "\"pattern\""), bad.toString());
        Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"type\":");
        CliRun cut = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--json-schema", broken.toString());
        assertTrue(cut.failedWithOneLine("generate", "broken.json", "not valid JSON"), cut.toString());
        CliRun both = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once", "--json-schema", pattern.toString(), "--json-object");
        assertTrue(both.failedWithOneLine("generate", "--json-schema and --json-object"), both.toString());
    }

    @Test
    void evalScoresConstrainedAnswers() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path data = SharedData.require("data/restaurant8k/test.jsonl");
        // examples/restaurant8k.schema.json with shorter strings: a story model fills each to its bound
        String example = Files.readString(Path.of("..", "examples", "restaurant8k.schema.json"));
        assertTrue(example.contains("\"maxLength\": 80"), example);
        Path schema = Files.writeString(tmp.resolve("restaurant8k.json"), example.replace("\"maxLength\": 80", "\"maxLength\": 8"));
        Path out = tmp.resolve("eval");
        CliRun run = CliRun.of("eval", "--model", model.toString(), "--data", data.toString(), "--task", "extraction", "--limit", "4",
                "--max-new-tokens", "250", "--chat-template", "chatml", "--json-schema", schema.toString(), "--out", out.toString());
        assertEquals(0, run.exit(), run.toString());
        ObjectMapper json = new ObjectMapper();
        List<String> keys = List.of("people", "date", "time", "first_name", "last_name");
        List<String> lines = Files.readAllLines(out.resolve("predictions.jsonl"));
        assertEquals(4, lines.size());
        assertTrue(Files.readString(out.resolve("metrics.json")).contains("\"valid_json\" : 1.0"), Files.readString(out.resolve("metrics.json")));
        for (String line : lines) {
            JsonNode answer = json.readTree(json.readTree(line).get("prediction").asText());
            assertTrue(answer.isObject(), line);
            answer.fieldNames().forEachRemaining(k -> assertTrue(keys.contains(k), line));
        }
        CliRun scored = CliRun.of("eval", "--predictions", out.resolve("predictions.jsonl").toString(), "--json-object");
        assertTrue(scored.failedWithOneLine("eval", "not --predictions"), scored.toString());
    }
}
