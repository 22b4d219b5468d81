package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each served name answers chat requests in the prompt format its model was trained and evaluated in, as
 * `jtune generate --chat` renders it: stories260K (no template of its own) with an adapter folder that
 * records chatml and a system message the way training does ({@link PromptFormat#write}) answers as
 * that adapter with both; a request's own system message is kept; the base without a template is a 400
 * naming --chat-template; --chat-template wins over the adapter's template (its system message stays);
 * a merged folder's recorded system message is used for its base name; --system replaces the recorded
 * message for every name ("" removes it) and a request's own still wins. Prompts are compared as the
 * rendered text in the request log and its ids against the generate path's.
 */
class ServedPromptFormatTest {
    private static final String SYSTEM = "You answer banking questions in one word.";
    private static final String ASK = "Where is my card?";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void anAdapterAnswersInItsTrainedFormatAndTheBareBaseIsRefused() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = TestServer.makeAdapter(model, tmp.resolve("adapter"));
        PromptFormat.write(adapter, model, ChatTemplate.resolve(model, "llama2", "chat_template"), SYSTEM);
        Tokenizer tok = Tokenizer.load(model);
        Path db = tmp.resolve("a.db");
        List<String[]> asked = new ArrayList<>(); // response id, expected prompt text
        try (OpenAiServer server = ServeLauncher.start(config(model, Map.of("b15", adapter), null, db))) {
            String noSystem = generatePrompt(model, adapter, null, null);
            assertTrue(noSystem.contains(SYSTEM), noSystem);
            JsonNode r = chat(server, "b15", null);
            assertEquals(tok.encode(noSystem, false).length, r.get("usage").get("prompt_tokens").asInt(), r.toString());
            asked.add(new String[] {r.get("id").asText(), noSystem});

            // the request's own system message wins over the trained one
            String own = generatePrompt(model, adapter, null, "Be brief.");
            JsonNode r2 = chat(server, "b15", "Be brief.");
            assertEquals(tok.encode(own, false).length, r2.get("usage").get("prompt_tokens").asInt(), r2.toString());
            asked.add(new String[] {r2.get("id").asText(), own});

            // the base model has no template: a clear 400
            HttpResponse<String> bare = post(server, "stories", null);
            assertEquals(400, bare.statusCode(), bare.body());
            assertTrue(bare.body().contains("--chat-template") && bare.body().contains("stories"), bare.body());
        }
        for (String[] a : asked) {
            String logged = loggedPrompt(db, a[0]);
            assertEquals(a[1], logged);
            assertArrayEquals(tok.encode(a[1], false), tok.encode(logged, false));
        }
        assertTrue(asked.get(1)[1].contains("Be brief.") && !asked.get(1)[1].contains(SYSTEM), asked.get(1)[1]);

        // --chat-template wins over the adapter's template for every name; the adapter's system message stays
        Path db2 = tmp.resolve("b.db");
        String id;
        try (OpenAiServer server = ServeLauncher.start(config(model, Map.of("b15", adapter), "chatml", db2))) {
            id = chat(server, "b15", null).get("id").asText();
            assertEquals(200, post(server, "stories", null).statusCode());
        }
        String flagged = generatePrompt(model, adapter, "chatml", null);
        assertTrue(flagged.startsWith("<|im_start|>system\n" + SYSTEM), flagged);
        assertEquals(flagged, loggedPrompt(db2, id));
    }

    @Test
    void theSystemFlagTakesTheTrainedMessagesPlaceForEveryNameAndEmptyMeansNone() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path adapter = TestServer.makeAdapter(model, tmp.resolve("adapter"));
        PromptFormat.write(adapter, model, ChatTemplate.resolve(model, "llama2", "chat_template"), SYSTEM);
        String flag = "Answer as a pirate.";
        Path db = tmp.resolve("s.db");
        Map<String, String> asked = new LinkedHashMap<>(); // response id → expected prompt text
        ServeConfig config = config(model, Map.of("b15", adapter), null, db).withSystemMessage(flag);
        try (OpenAiServer server = ServeLauncher.start(config)) {
            asked.put(chat(server, "b15", null).get("id").asText(), generatePrompt(model, adapter, null, flag));
            asked.put(chat(server, "b15", "Be brief.").get("id").asText(), generatePrompt(model, adapter, null, "Be brief."));
        }
        // the base has no template of its own: --chat-template gives it one, and --system its system message
        try (OpenAiServer server = ServeLauncher.start(config(model, Map.of("b15", adapter), "chatml", db).withSystemMessage(flag))) {
            asked.put(chat(server, "stories", null).get("id").asText(), generatePrompt(model, null, "chatml", flag));
            asked.put(chat(server, "b15", null).get("id").asText(), generatePrompt(model, adapter, "chatml", flag));
        }
        // --system "": no system message, though the adapter records one
        try (OpenAiServer server = ServeLauncher.start(config.withSystemMessage(""))) {
            asked.put(chat(server, "b15", null).get("id").asText(), generatePrompt(model, adapter, null, ""));
        }
        List<String> expected = new ArrayList<>(asked.values());
        assertTrue(expected.get(0).contains(flag) && !expected.get(0).contains(SYSTEM), expected.get(0));
        assertTrue(expected.get(1).contains("Be brief.") && !expected.get(1).contains(flag), expected.get(1));
        assertTrue(expected.get(2).startsWith("<|im_start|>system\n" + flag), expected.get(2));
        assertTrue(expected.get(3).startsWith("<|im_start|>system\n" + flag), expected.get(3));
        assertTrue(expected.get(4).contains(ASK) && !expected.get(4).contains(SYSTEM) && !expected.get(4).contains("<<SYS>>"), expected.get(4));
        for (var a : asked.entrySet()) assertEquals(a.getValue(), loggedPrompt(db, a.getKey()));
    }

    @Test
    void aMergedFolderAnswersWithItsRecordedSystemMessage() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path merged = Files.createDirectories(tmp.resolve("merged"));
        try (var files = Files.list(model)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, merged.resolve(f.getFileName()));
        }
        PromptFormat.write(merged, merged, ChatTemplate.resolve(merged, "chatml", "chat_template"), SYSTEM);
        Path db = tmp.resolve("m.db");
        String id;
        int promptTokens;
        try (OpenAiServer server = ServeLauncher.start(config(merged, Map.of(), null, db))) {
            JsonNode r = chat(server, "merged", null);
            id = r.get("id").asText();
            promptTokens = r.get("usage").get("prompt_tokens").asInt();
        }
        String expected = generatePrompt(merged, null, null, null);
        assertTrue(expected.contains(SYSTEM), expected);
        assertEquals(expected, loggedPrompt(db, id));
        assertEquals(Tokenizer.load(merged).encode(expected, false).length, promptTokens);
    }

    /** The prompt `jtune generate --chat` renders for ASK on this model and adapter (its --chat-template and --system flags). */
    private static String generatePrompt(Path model, Path adapter, String templateFlag, String systemFlag) throws Exception {
        String sys = PromptFormat.systemMessage(model, adapter, systemFlag);
        List<Message> messages = sys == null || sys.isEmpty() ? List.of(Message.user(ASK)) : List.of(Message.system(sys), Message.user(ASK));
        return ChatTemplate.resolve(model, adapter, templateFlag, "--chat-template").render(messages, true, null);
    }

    private static ServeConfig config(Path model, Map<String, Path> adapters, String template, Path db) {
        return new ServeConfig(model, model.getFileName().toString().equals("merged") ? "merged" : "stories", new LinkedHashMap<>(adapters),
                template, "127.0.0.1", 0, null, 4, 16, 1 << 20, "jdbc:sqlite:" + db, 2048, 0);
    }

    private static JsonNode chat(OpenAiServer server, String model, String system) throws Exception {
        HttpResponse<String> r = post(server, model, system);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> post(OpenAiServer server, String model, String system) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("model", model).put("max_tokens", 4).put("temperature", 0);
        var messages = body.putArray("messages");
        if (system != null) messages.addObject().put("role", "system").put("content", system);
        messages.addObject().put("role", "user").put("content", ASK);
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The rendered prompt the request log holds for a response id (read after the server closed: the log is written by then). */
    private static String loggedPrompt(Path db, String id) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
             var s = c.prepareStatement("SELECT prompt_text FROM requests WHERE id = ?")) {
            s.setString(1, id);
            try (var rs = s.executeQuery()) {
                assertTrue(rs.next(), "request " + id + " is not in the log");
                return rs.getString(1);
            }
        }
    }
}
