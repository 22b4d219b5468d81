package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.ServeLauncher;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.tensor.Rng;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The user walkthrough behind serving per-name prompt formats: an adapter folder that records its chat
 * template and system message as training does, served beside stories260K (no template of its own)
 * with no --chat-template, answers a chat request with exactly the prompt ids `jtune generate --chat
 * --json --adapter` renders for the same message (the rendered prompt is read back from the request log);
 * with `jtune serve --system TEXT` (and "" for none) it renders what `generate --chat --system TEXT` does.
 */
class ServeGenerateParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ASK = "Where is my card?";
    private static final String TRAINED = "You answer banking questions in one word.";

    @Test
    void aServedAdapterRendersTheGeneratePrompt(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = adapter(model, tmp.resolve("adapter"));
        int[] generateIds = generateIds(model, adapter);
        assertTrue(Tokenizer.load(model).decode(generateIds, false).contains(TRAINED));
        assertArrayEquals(generateIds, servedIds(model, tmp.resolve("requests.db"), "--adapter", "b15=" + adapter));
    }

    @Test
    void serveSystemRendersWhatGenerateSystemDoes(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = adapter(model, tmp.resolve("adapter"));
        Tokenizer tok = Tokenizer.load(model);
        String flag = "Answer as a pirate.";
        int[] generateIds = generateIds(model, adapter, "--system", flag);
        String text = tok.decode(generateIds, false);
        assertTrue(text.contains(flag) && !text.contains(TRAINED), text);
        assertArrayEquals(generateIds, servedIds(model, tmp.resolve("a.db"), "--adapter", "b15=" + adapter, "--system", flag));

        int[] none = generateIds(model, adapter, "--system", "");
        assertFalse(tok.decode(none, false).contains(TRAINED));
        assertArrayEquals(none, servedIds(model, tmp.resolve("b.db"), "--adapter", "b15=" + adapter, "--system", ""));
    }

    /** A LoRA adapter of stories260K whose folder records chatml and {@link #TRAINED}, as training writes it. */
    private static Path adapter(Path model, Path adapter) throws Exception {
        try (CausalLM m = Architectures.load(model)) {
            LoraAdapters.attach(m, Adapters.DEFAULT, new LoraConfig(4, 8f, 0f, LoraConfig.ALL_LINEAR, false, List.of()), new Rng(3), false);
            PeftFormat.save(adapter, m, Adapters.DEFAULT, model.toString());
        }
        PromptFormat.write(adapter, model, ChatTemplate.resolve(model, "chatml", "chat_template"), TRAINED);
        return adapter;
    }

    /** The prompt ids of `jtune generate --chat --json --adapter` for ASK, with {@code flags} added. */
    private static int[] generateIds(Path model, Path adapter, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "--adapter", adapter.toString(), "--chat",
                "--prompt", ASK, "--max-new-tokens", "2", "--json"));
        args.addAll(List.of(flags));
        EvalCommandTest.Run g = EvalCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, g.exit(), g.err());
        JsonNode ids = JSON.readTree(g.out().strip()).get("prompt_ids");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) out[i] = ids.get(i).asInt();
        return out;
    }

    /**
     * The prompt ids a server started from `jtune serve --model MODEL {@code flags}` gives ASK sent to b15:
     * the command line is parsed by serve's own command, and the rendered prompt read back from the request log.
     */
    private static int[] servedIds(Path model, Path db, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--served-model-name", "stories260K", "--port", "0",
                "--max-batch", "2", "--max-queue", "8", "--log-db", "jdbc:sqlite:" + db));
        args.addAll(List.of(flags));
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args.toArray(String[]::new));
        String id;
        int promptTokens;
        try (OpenAiServer server = ServeLauncher.start(command.config(0))) {
            String body = "{\"model\":\"b15\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"" + ASK + "\"}]}";
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode answer = JSON.readTree(r.body());
            id = answer.get("id").asText();
            promptTokens = answer.get("usage").get("prompt_tokens").asInt();
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
             var s = c.prepareStatement("SELECT prompt_text FROM requests WHERE id = ?")) {
            s.setString(1, id);
            try (var rs = s.executeQuery()) {
                assertTrue(rs.next(), id);
                int[] ids = Tokenizer.load(model).encode(rs.getString(1), false);
                assertEquals(ids.length, promptTokens);
                return ids;
            }
        }
    }
}
