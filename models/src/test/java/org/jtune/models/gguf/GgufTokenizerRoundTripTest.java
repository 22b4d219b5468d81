package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.quant.gguf.GgufWriter;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer.json → GGUF tokenizer metadata (written to a file and read back) → tokenizer gives Hugging
 * Face's encodings of ../shared/hf/tokenizer_cases.json for every family folder with a tokenizer.json,
 * with and without special tokens; and for stories260K the reference prompts' ids.
 */
class GgufTokenizerRoundTripTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Tokenizer throughGguf(Path dir) throws Exception {
        Path file = tmp.resolve(dir.getFileName() + ".gguf");
        new GgufWriter().putAll(TokenizerToGguf.fromModelFolder(dir)).write(file);
        try (GgufFile f = GgufReader.open(file)) {
            return GgufToTokenizer.load(f.metadata());
        }
    }

    @Test
    void everyFamilyEncodesAsHuggingFaceAfterTheRoundTrip() throws Exception {
        JsonNode cases = JSON.readTree(SharedData.require("hf/tokenizer_cases.json").toFile());
        Map<String, String> texts = new HashMap<>();
        for (JsonNode s : cases.get("strings")) texts.put(s.get("id").asText(), s.get("text").asText());
        List<String> mismatches = new ArrayList<>();
        int checks = 0, families = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("families").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> family = it.next();
            Path dir = SharedData.root().resolve(family.getValue().get("folder").asText().replaceFirst("^shared/", ""));
            if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) continue;
            families++;
            Tokenizer tok = throughGguf(dir);
            for (Iterator<Map.Entry<String, JsonNode>> cit = family.getValue().get("cases").fields(); cit.hasNext(); ) {
                Map.Entry<String, JsonNode> c = cit.next();
                String text = texts.get(c.getKey());
                for (String key : new String[] {"ids_default", "ids_no_special"}) {
                    JsonNode exp = c.getValue().get(key);
                    if (exp == null) continue;
                    int[] expected = new int[exp.size()];
                    for (int i = 0; i < expected.length; i++) expected[i] = exp.get(i).asInt();
                    int[] actual = tok.encode(text, key.equals("ids_default"));
                    checks++;
                    if (!Arrays.equals(expected, actual)) {
                        mismatches.add(family.getKey() + " / " + c.getKey() + " " + key + "\n    expected " + Arrays.toString(expected)
                                + "\n    actual   " + Arrays.toString(actual));
                    }
                }
            }
        }
        assertTrue(families >= 4, "families with a tokenizer.json: " + families);
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + checks + " encodings differ:\n" + String.join("\n", mismatches));
    }

    @Test
    void stories260KPromptsAndMetadata() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        JsonNode ref = JSON.readTree(dir.resolve("reference.json").toFile());
        Tokenizer tok = throughGguf(dir);
        for (JsonNode p : ref.get("prompts")) {
            int[] expected = new int[p.get("prompt_ids").size()];
            for (int i = 0; i < expected.length; i++) expected[i] = p.get("prompt_ids").get(i).asInt();
            assertArrayEquals(expected, tok.encode(p.get("prompt").asText(), true), p.get("prompt").asText());
        }
        var m = TokenizerToGguf.fromModelFolder(dir);
        assertEquals("llama", m.get("tokenizer.ggml.model").value());
        float[] scores = (float[]) m.get("tokenizer.ggml.scores").value();
        String[] tokens = (String[]) m.get("tokenizer.ggml.tokens").value();
        long[] types = (long[]) m.get("tokenizer.ggml.token_type").value();
        assertEquals(512, tokens.length);
        assertEquals(3L, types[1], "<s> is CONTROL");
        assertEquals(2L, types[0], "<unk> is UNKNOWN");
        assertEquals(6L, types[3 + 10], "<0x0A> is BYTE");
        // the first merge of the file makes the best-scoring token
        JsonNode first = JSON.readTree(dir.resolve("tokenizer.json").toFile()).get("model").get("merges").get(0);
        String merged = first.isArray() ? first.get(0).asText() + first.get(1).asText() : first.asText().replace(" ", "");
        int id = Arrays.asList(tokens).indexOf(merged);
        assertEquals(0f, scores[id]);
        for (int i = 0; i < tokens.length; i++) if (types[i] == 1 && i != id) assertTrue(scores[i] < scores[id], tokens[i]);
    }
}
