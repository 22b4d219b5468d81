package org.jtune.models.gguf;

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
import org.jtune.quant.gguf.GgufWriter;
import org.jtune.quant.gguf.GgufNames;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama.cpp itself tokenizing with the tokenizer metadata jtune writes: for each family of
 * ../shared/hf with a tokenizer.json, a weightless GGUF (tokenizer metadata and placeholder llama
 * hyper-parameters) loaded vocab-only by llama.cpp encodes every string of tokenizer_cases.json as Hugging
 * Face does without added BOS/EOS (ids_no_special; special-token text parsed, as Hugging Face parses it).
 * Known differences of llama.cpp itself are listed, not hidden: for a Metaspace pre-tokenizer with
 * prepend_scheme "first" (Mistral v0.3) Hugging Face adds "▁" only at the start of the text and only when
 * it does not already begin with one, while llama.cpp's SentencePiece mode prefixes a space to every text
 * fragment (after each special token, and before a leading space too); no GGUF key expresses the former.
 */
class LlamaCppTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void llamaCppEncodesLikeHuggingFaceWithOurMetadata() throws Exception {
        JsonNode cases = JSON.readTree(SharedData.require("hf/tokenizer_cases.json").toFile());
        Path peer = LlamaCppPeer.require();
        Map<String, String> texts = new HashMap<>();
        for (JsonNode s : cases.get("strings")) texts.put(s.get("id").asText(), s.get("text").asText());
        List<String> report = new ArrayList<>(), failures = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("families").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> family = it.next();
            Path dir = SharedData.root().resolve(family.getValue().get("folder").asText().replaceFirst("^shared/", ""));
            if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) continue;
            var meta = TokenizerToGguf.fromModelFolder(dir);
            int vocab = ((String[]) meta.get("tokenizer.ggml.tokens").value()).length;
            Path file = tmp.resolve(family.getKey() + ".gguf");
            new GgufWriter().putAll(GgufNames.Hyperparameters.llama(2048, 64, 1, 128, 8, 8, 10000f, 1e-5f, 8, vocab, 8).toMetadata())
                    .putAll(meta).write(file);
            List<String> ids = new ArrayList<>();
            List<Object> requests = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> cit = family.getValue().get("cases").fields(); cit.hasNext(); ) {
                Map.Entry<String, JsonNode> c = cit.next();
                JsonNode exp = c.getValue().get("ids_no_special");
                if (exp == null) continue;
                ids.add(c.getKey());
                requests.add(Map.of("op", "tokenize", "text", texts.get(c.getKey()), "special", true));
                int[] e = new int[exp.size()];
                for (int i = 0; i < e.length; i++) e[i] = exp.get(i).asInt();
                expected.add(e);
            }
            List<JsonNode> answers = LlamaCppPeer.ask(peer, file, requests, true);
            int same = 0;
            List<String> differ = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                int[] got = LlamaCppPeer.ids(answers.get(i));
                if (Arrays.equals(expected.get(i), got)) same++;
                else differ.add(ids.get(i) + ": HF " + Arrays.toString(expected.get(i)) + " llama.cpp " + Arrays.toString(got));
            }
            report.add(family.getKey() + " " + same + "/" + ids.size());
            boolean knownDifferent = meta.containsKey(TokenizerToGguf.PREPEND_SCHEME);
            if (!differ.isEmpty() && !knownDifferent) failures.add(family.getKey() + ":\n  " + String.join("\n  ", differ));
            if (!differ.isEmpty() && knownDifferent) report.add("(" + family.getKey() + " differs where llama.cpp prefixes a space that Metaspace \"first\" does not: " + String.join("; ", differ) + ")");
        }
        System.out.println("[llama.cpp tokenizes with jtune's GGUF metadata] " + String.join("; ", report));
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
