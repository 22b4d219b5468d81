package org.jtune.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/** stories260K's tokenizer reproduces the prompt ids and decoded texts of llama2.c's reference run. */
class Stories260KTokenizerTest {

    @Test
    void promptIdsAndDecodedTextsMatchTheReference() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        JsonNode reference = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        Tokenizer tokenizer = Tokenizer.load(dir);
        assertEquals(512, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bosId());
        assertArrayEquals(new int[] {2}, tokenizer.eosIds());
        int prompts = 0;
        for (JsonNode p : reference.get("prompts")) {
            String prompt = p.get("prompt").asText();
            int[] expected = ids(p.get("prompt_ids"));
            assertArrayEquals(expected, tokenizer.encode(prompt, true), "prompt ids of \"" + prompt + "\"");
            if (p.has("generated_ids") && p.has("decoded_text")) {
                int[] all = concat(expected, ids(p.get("generated_ids")));
                assertEquals(p.get("decoded_text").asText(), tokenizer.decode(all, true), "decoded text of \"" + prompt + "\"");
            }
            prompts++;
        }
        assertTrue(prompts > 0, "reference.json lists no prompts");
    }

    private static int[] ids(JsonNode list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = list.get(i).asInt();
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
