package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `jtune tokenize` on the real stories260K and TinyLlama tokenizer folders. */
class TokenizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new Main()).execute(args);
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void textWithAndWithoutSpecialTokens() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Run r = run("tokenize", "--model", model.toString(), "--text", "Once upon a time", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode line = JSON.readTree(r.out());
        assertEquals("[1,403,407,261,378]", line.get("ids").toString());
        assertEquals("Once upon a time", line.get("text").asText());
        Run plain = run("tokenize", "--model", model.toString(), "--text", "Once upon a time", "--no-special");
        assertEquals("403 407 261 378", plain.out().strip());
    }

    @Test
    void jsonlWithTextAndChatMessages(@TempDir Path dir) throws Exception {
        Path model = SharedData.require("hf/tinyllama-1.1b-chat-v1.0");
        Path input = dir.resolve("in.jsonl");
        Files.write(input, List.of(
                "{\"text\": \"Hello world! This is a simple English sentence.\"}",
                "",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"You are a helpful banking assistant.\"},"
                        + " {\"role\": \"user\", \"content\": \"How do I activate my new card?\"}], \"add_generation_prompt\": true}"));
        Run r = run("tokenize", "--model", model.toString(), "--input", input.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertEquals("[1,15043,3186,29991,910,338,263,2560,4223,10541,29889]", JSON.readTree(lines.get(0)).get("ids").toString());
        JsonNode chat = JSON.readTree(lines.get(1));
        assertEquals("<|system|>\nYou are a helpful banking assistant.</s>\n<|user|>\nHow do I activate my new card?</s>\n<|assistant|>\n",
                chat.get("text").asText());
        assertEquals("[529,29989,5205,29989,29958,13,3492,526,263,8444,9124,292,20255,29889,2,29871,13,29966,29989,1792,29989,29958,13,"
                + "5328,437,306,5039,403,590,716,5881,29973,2,29871,13,29966,29989,465,22137,29989,29958,13]", chat.get("ids").toString());
    }

    @Test
    void aMalformedLineIsAnErrorNamingFileAndLine(@TempDir Path dir) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path input = dir.resolve("bad.jsonl");
        Files.write(input, List.of("{\"text\": \"fine\"}", "{\"text\": \"broken", "{\"text\": \"never reached\"}"));
        Run r = run("tokenize", "--model", model.toString(), "--input", input.toString(), "--json");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(input + ":2"), r.err());
        assertEquals(1, r.out().lines().count(), "the line before the error is printed");

        Files.write(input, List.of("{\"messages\": [{\"content\": \"no role\"}]}"));
        Run noRole = run("tokenize", "--model", model.toString(), "--input", input.toString());
        assertNotEquals(0, noRole.exit());
        assertTrue(noRole.err().contains(input + ":1") && noRole.err().contains("role"), noRole.err());
    }

    @Test
    void aMissingModelFolderIsAClearError(@TempDir Path dir) {
        Run r = run("tokenize", "--model", dir.resolve("nope").toString(), "--text", "x");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("nope"), r.err());
    }
}
