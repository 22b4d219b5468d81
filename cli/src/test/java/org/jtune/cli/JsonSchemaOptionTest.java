package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jtune generate --json-schema FILE}: stories260K answers with JSON of the schema, ended by the end id; a
 * keyword that cannot be enforced, a broken schema file, or both options at once are one line naming the cause,
 * before the model loads.
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
}
