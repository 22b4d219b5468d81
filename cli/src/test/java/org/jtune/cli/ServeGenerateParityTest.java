package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.ServeConfig;
import org.jtune.serve.ServeLauncher;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.tensor.Rng;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user walkthrough behind serving per-name prompt formats: an adapter folder that records its chat
 * template and system message as training does, served beside stories260K (no template of its own)
 * with no --chat-template, answers a chat request with exactly the prompt ids `jtune generate --chat
 * --json --adapter` renders for the same message (the rendered prompt is read back from the request log).
 */
class ServeGenerateParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ASK = "Where is my card?";

    @Test
    void aServedAdapterRendersTheGeneratePrompt(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = tmp.resolve("adapter");
        try (CausalLM m = Architectures.load(model)) {
            LoraAdapters.attach(m, Adapters.DEFAULT, new LoraConfig(4, 8f, 0f, LoraConfig.ALL_LINEAR, false, java.util.List.of()), new Rng(3), false);
            PeftFormat.save(adapter, m, Adapters.DEFAULT, model.toString());
        }
        PromptFormat.write(adapter, model, ChatTemplate.resolve(model, "chatml", "chat_template"), "You answer banking questions in one word.");

        EvalCommandTest.Run g = EvalCommandTest.run("generate", "--model", model.toString(), "--adapter", adapter.toString(), "--chat",
                "--prompt", ASK, "--max-new-tokens", "2", "--json");
        assertEquals(0, g.exit(), g.err());
        JsonNode ids = JSON.readTree(g.out().strip()).get("prompt_ids");
        int[] generateIds = new int[ids.size()];
        for (int i = 0; i < generateIds.length; i++) generateIds[i] = ids.get(i).asInt();

        Map<String, Path> adapters = new LinkedHashMap<>();
        adapters.put("b15", adapter);
        Path db = tmp.resolve("requests.db");
        String id;
        try (OpenAiServer server = ServeLauncher.start(new ServeConfig(model, "stories260K", adapters, null, "127.0.0.1", 0, null, 2, 8,
                1 << 20, "jdbc:sqlite:" + db, 2048, 0))) {
            String body = "{\"model\":\"b15\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"" + ASK + "\"}]}";
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode answer = JSON.readTree(r.body());
            assertEquals(generateIds.length, answer.get("usage").get("prompt_tokens").asInt(), r.body());
            id = answer.get("id").asText();
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
             var s = c.prepareStatement("SELECT prompt_text FROM requests WHERE id = ?")) {
            s.setString(1, id);
            try (var rs = s.executeQuery()) {
                assertTrue(rs.next(), id);
                assertArrayEquals(generateIds, Tokenizer.load(model).encode(rs.getString(1), false));
            }
        }
    }
}
