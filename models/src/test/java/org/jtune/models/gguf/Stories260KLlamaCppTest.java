package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K written by {@link HfToGguf} in F32, Q8_0 and Q4_0 and loaded by llama.cpp (node-llama-cpp):
 * llama.cpp tokenizes the reference prompts exactly as Hugging Face does (reference.json's prompt_ids),
 * generates the reference greedy ids from the F32 file (all of them), and from the quantized files agrees
 * with them for at least 32 (Q8_0) and 6 (Q4_0) tokens. The files are read back with GgufReader: per-tensor
 * fallbacks as llama.cpp makes them (ffn_down's rows of 172 → F16; the tied embedding → Q8_0 for Q4_0).
 */
class Stories260KLlamaCppTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** F32 (one llama.cpp process, a few seconds). */
    @Test
    void llamaCppTokenizesAndGeneratesTheReferenceFromF32() throws Exception {
        check(GgmlType.F32);
    }

    /** Q8_0 and Q4_0: agreement over the reference length, counted. */
    @Test
    void quantizedFilesAgreeForTheirShare() throws Exception {
        check(GgmlType.Q8_0, GgmlType.Q4_0);
    }

    private void check(GgmlType... types) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path peer = LlamaCppPeer.require();
        JsonNode ref = JSON.readTree(model.resolve("reference.json").toFile());
        List<String> report = new ArrayList<>();
        for (GgmlType type : types) {
            Path file = tmp.resolve("stories260K-" + type + ".gguf");
            HfToGguf.export(model, type, file);
            try (GgufFile f = GgufReader.open(file)) {
                assertEquals(GgmlType.F32, f.tensor("blk.0.attn_norm.weight").type());
                assertEquals(type == GgmlType.F32 ? GgmlType.F32 : GgmlType.F16, f.tensor("blk.0.ffn_down.weight").type(), "172-long rows");
                assertEquals(type, f.tensor("blk.0.ffn_up.weight").type());
                assertEquals(type == GgmlType.Q4_0 ? GgmlType.Q8_0 : type, f.tensor("token_embd.weight").type());
                assertTrue(!f.hasTensor("output.weight"), "tied embeddings: llama.cpp reuses token_embd");
            }
            List<Object> requests = new ArrayList<>();
            for (JsonNode p : ref.get("prompts")) {
                requests.add(Map.of("op", "tokenize", "text", p.get("prompt").asText(), "special", true));
                requests.add(Map.of("op", "generate", "ids", ints(p.get("prompt_ids")), "n", p.get("generated_ids").size()));
            }
            List<JsonNode> answers = LlamaCppPeer.ask(peer, file, requests);
            int k = 0;
            for (JsonNode p : ref.get("prompts")) {
                int[] promptIds = ints(p.get("prompt_ids"));
                int[] tokenized = LlamaCppPeer.ids(answers.get(k++));
                assertArrayEquals(Arrays.copyOfRange(promptIds, 1, promptIds.length), tokenized, type + " tokenize " + p.get("prompt"));
                int[] expected = ints(p.get("generated_ids"));
                int[] generated = LlamaCppPeer.ids(answers.get(k++));
                int same = 0;
                while (same < Math.min(expected.length, generated.length) && expected[same] == generated[same]) same++;
                report.add(type + " \"" + p.get("prompt").asText() + "\": " + same + " of " + expected.length + " ids as the reference");
                int needed = switch (type) {
                    case F32 -> expected.length;
                    case Q8_0 -> 32;
                    default -> 6;
                };
                assertTrue(same >= needed, type + " " + p.get("prompt") + ": only " + same + " identical ids (" + needed + " needed)\n"
                        + Arrays.toString(expected) + "\n" + Arrays.toString(generated));
            }
        }
        System.out.println("[stories260K through llama.cpp] " + String.join("; ", report));
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
