package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.serve.engine.SwitchingEngine;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.registry.FakeRun;
import org.jtune.serve.registry.Promotion;
import org.jtune.serve.registry.Registry;
import org.jtune.serve.registry.RunFolder;
import org.jtune.serve.registry.Stage;
import org.jtune.eval.EvalSettings;
import org.jtune.serve.text.PromptCodec;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `jtune serve --registry DB --name NAME` on stories260K with two registered LoRA versions: the server
 * answers with the production version, switches to v2 when it is promoted and back to v1 on rollback,
 * while clients keep sending requests: none fails, a long stream started before a switch finishes on
 * the version that took it, and every logged request names the version whose answer it got. A version
 * whose recorded system message differs from the first one's is refused (stderr names it) and v1 keeps
 * answering; one in the same format is switched to; with --system, versions recorded with different
 * messages are switched between (adapter and full-model versions alike).
 */
class RegistryServingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMPT = "Once upon a time";

    @Test
    void promoteAndRollbackSwitchVersionsWithoutFailingARequest(@TempDir Path root) throws Exception {
        Path model = SharedData.require("models/stories260K");
        Registry registry = Registry.open(root.resolve("registry/registry.db").toString(), null);
        Path[] adapters = new Path[2];
        for (int i = 0; i < 2; i++) {
            Path run = run(root, "v" + (i + 1), model, 21 + i);
            adapters[i] = run.resolve("adapter");
            registry.register(RunFolder.read(run, null), new Registry.Registration("tickets", null, "test"));
        }
        Promotion forced = new Promotion(null, null, EvalSettings.DEFAULTS, null, FakeRun.PREDICTOR, 10, 1);
        forced.run(registry, "tickets", 1, Stage.PRODUCTION, true, "first release", "test");

        // each version's greedy answers (short, and the long stream's), straight from Generator
        int[] ids = PromptCodec.of(org.jtune.models.tokenizer.Tokenizer.load(model), null, Architectures.readConfig(model)).text(PROMPT).ids();
        Map<String, String> shortAnswer = new HashMap<>(), longAnswer = new HashMap<>();
        for (int i = 0; i < 2; i++) {
            shortAnswer.put("tickets:" + (i + 1), reference(model, adapters[i], ids, 12));
            longAnswer.put("tickets:" + (i + 1), reference(model, adapters[i], ids, 300));
        }
        assertNotEquals(shortAnswer.get("tickets:1"), shortAnswer.get("tickets:2"), "the two versions answer differently");

        ServeConfig config = servingRegistry(root, root.resolve("registry/registry.db").toString(), "tickets");
        HttpClient http = HttpClient.newHttpClient();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        try (OpenAiServer server = ServeLauncher.start(config)) {
            SwitchingEngine engine = (SwitchingEngine) server.engine();
            String url = "http://127.0.0.1:" + server.port();
            assertEquals("tickets:1", engine.modelVersion());
            assertEquals(List.of("tickets-base", "tickets"), engine.modelNames());
            // clients that keep asking, plain and streamed, through both switches
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                boolean stream = c == 1;
                clients.add(Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = http.send(CancellationTest.post(url, "/v1/completions",
                                    CancellationTest.body("tickets", 12, stream)), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200 || !(stream ? r.body().endsWith("data: [DONE]\n\n") : r.body().contains("\"finish_reason\""))) {
                                failures.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }));
            }
            // a long stream taken by v1 before the promotion
            HttpResponse<InputStream> longStream = http.send(CancellationTest.post(url, "/v1/completions",
                    CancellationTest.body("tickets", 300, true)), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader events = new BufferedReader(new InputStreamReader(longStream.body(), StandardCharsets.UTF_8));
            StringBuilder longText = new StringBuilder();
            readEvent(events, longText);

            forced.run(registry, "tickets", 2, Stage.PRODUCTION, true, "better", "test");
            CancellationTest.await("the server serves v2", () -> "tickets:2".equals(engine.modelVersion()));
            while (readEvent(events, longText)) { } // the long stream goes on, on v1
            assertEquals(longAnswer.get("tickets:1"), longText.toString(), "the stream v1 took finished on v1 after the switch");
            Thread.sleep(300);
            registry.rollback("tickets", "test", "drift");
            CancellationTest.await("the server serves v1 again", () -> "tickets:1".equals(engine.modelVersion()));
            Thread.sleep(300);
            stop.set(true);
            for (Thread t : clients) t.join();
            CancellationTest.await("the engines switched away from are closed", () -> engine.draining() == 0);
            assertEquals(0, engine.gauges().running());
        }
        assertTrue(failures.isEmpty(), "no request failed during the switches: " + failures);
        // every request is logged with the version that answered it, and got that version's answer
        Map<String, Integer> perVersion = new HashMap<>();
        List<String> order = new ArrayList<>();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("requests.db"));
             var rs = c.createStatement().executeQuery("SELECT model_version, status, output_text, completion_tokens, request_json "
                     + "FROM requests ORDER BY created_at, id")) {
            while (rs.next()) {
                String version = rs.getString(1);
                assertEquals(200, rs.getInt(2));
                int maxTokens = JSON.readTree(rs.getString(5)).get("max_tokens").asInt();
                assertEquals((maxTokens == 300 ? longAnswer : shortAnswer).get(version), rs.getString(3), "answer logged for " + version);
                perVersion.merge(version, 1, Integer::sum);
                if (order.isEmpty() || !order.getLast().equals(version)) order.add(version);
            }
        }
        assertTrue(perVersion.getOrDefault("tickets:1", 0) > 3 && perVersion.getOrDefault("tickets:2", 0) > 3, perVersion.toString());
        assertTrue(order.indexOf("tickets:2") > 0 && order.lastIndexOf("tickets:1") > order.indexOf("tickets:2"),
                "v1, then v2 after the promotion, then v1 after the rollback: " + order);
    }

    /**
     * Versions whose adapters record different system messages (as training does, {@link PromptFormat#write}): the
     * server started on v1 refuses v2, says so on stderr naming the system message, and keeps answering chat requests
     * as v1 with v1's message; v3, other weights in v1's format, is switched to. With --system the recorded messages
     * are not used, so v2 is switched to.
     */
    @Test
    void aVersionWithAnotherSystemMessageIsNotSwitchedTo(@TempDir Path root) throws Exception {
        Path model = SharedData.require("models/stories260K");
        String db = root.resolve("registry/registry.db").toString();
        Registry registry = Registry.open(db, null);
        String[] systems = {"Route the ticket.", "Answer in French.", "Route the ticket."};
        for (int i = 0; i < 3; i++) {
            Path run = run(root, "v" + (i + 1), model, 21 + i);
            PromptFormat.write(run.resolve("adapter"), model, ChatTemplate.resolve(model, "chatml", "chat_template"), systems[i]);
            registry.register(RunFolder.read(run, null), new Registry.Registration("tickets", null, "test"));
        }
        Promotion forced = new Promotion(null, null, EvalSettings.DEFAULTS, null, FakeRun.PREDICTOR, 10, 1);
        forced.run(registry, "tickets", 1, Stage.PRODUCTION, true, "first release", "test");
        ServeConfig config = servingRegistry(root, db, "tickets");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        String asked;
        try {
            try (OpenAiServer server = ServeLauncher.start(config)) {
                SwitchingEngine engine = (SwitchingEngine) server.engine();
                forced.run(registry, "tickets", 2, Stage.PRODUCTION, true, "french", "test");
                String refusal = refusal(err, "tickets:2");
                assertTrue(refusal.contains("in its system message:") && refusal.contains("restart the server") && refusal.contains("still serving tickets:1"),
                        refusal);
                assertEquals("tickets:1", engine.modelVersion());
                asked = chat(server, "tickets");

                forced.run(registry, "tickets", 3, Stage.PRODUCTION, true, "same format", "test");
                CancellationTest.await("the server serves v3", () -> "tickets:3".equals(engine.modelVersion()));
                CancellationTest.await("the server says it serves v3", () -> err.toString(StandardCharsets.UTF_8).contains("now serving tickets:3"));
            }
            try (OpenAiServer server = ServeLauncher.start(config.withSystemMessage("Be brief."))) {
                SwitchingEngine engine = (SwitchingEngine) server.engine();
                assertEquals("tickets:3", engine.modelVersion());
                forced.run(registry, "tickets", 2, Stage.PRODUCTION, true, "french, asked with --system", "test");
                CancellationTest.await("with --system the server serves v2", () -> "tickets:2".equals(engine.modelVersion()));
            }
        } finally {
            System.setErr(stderr);
            stderr.print(err.toString(StandardCharsets.UTF_8));
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("requests.db"));
             var s = c.prepareStatement("SELECT model_version, prompt_text FROM requests WHERE id = ?")) {
            s.setString(1, asked);
            try (var rs = s.executeQuery()) {
                assertTrue(rs.next(), asked);
                assertEquals("tickets:1", rs.getString(1));
                assertTrue(rs.getString(2).startsWith("<|im_start|>system\n" + systems[0] + "<|im_end|>"), rs.getString(2));
            }
        }
    }

    /**
     * Full-model versions keep their chat template and system message in their own tokenizer_config.json: two that
     * differ only in the recorded system message are refused for that alone (not for their tokenizer files), and with
     * --system they are switched between.
     */
    @Test
    void fullModelVersionsThatDifferOnlyInTheirSystemMessage(@TempDir Path root) throws Exception {
        Path model = SharedData.require("models/stories260K");
        String db = root.resolve("registry/registry.db").toString();
        Registry registry = Registry.open(db, null);
        for (String[] v : new String[][] {{"f1", "Route the ticket."}, {"f2", "Answer in French."}}) {
            registry.register(RunFolder.read(fullRun(root, v[0], model, v[1]), null), new Registry.Registration("faq", null, "test"));
        }
        Promotion forced = new Promotion(null, null, EvalSettings.DEFAULTS, null, FakeRun.PREDICTOR, 10, 1);
        forced.run(registry, "faq", 1, Stage.PRODUCTION, true, "first release", "test");
        ServeConfig config = servingRegistry(root, db, "faq");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            try (OpenAiServer server = ServeLauncher.start(config)) {
                SwitchingEngine engine = (SwitchingEngine) server.engine();
                forced.run(registry, "faq", 2, Stage.PRODUCTION, true, "french", "test");
                String refusal = refusal(err, "faq:2");
                assertTrue(refusal.contains("in its system message:"), refusal);
                assertEquals("faq:1", engine.modelVersion());
            }
            try (OpenAiServer server = ServeLauncher.start(config.withSystemMessage("Be brief."))) {
                SwitchingEngine engine = (SwitchingEngine) server.engine();
                assertEquals("faq:2", engine.modelVersion());
                forced.run(registry, "faq", 1, Stage.PRODUCTION, true, "back, asked with --system", "test");
                CancellationTest.await("with --system the server serves v1", () -> "faq:1".equals(engine.modelVersion()));
            }
        } finally {
            System.setErr(stderr);
            stderr.print(err.toString(StandardCharsets.UTF_8));
        }
    }

    /** A server (request log in {@code root}) of the production version of {@code name} in the registry at {@code db}, polled every 50 ms. */
    private static ServeConfig servingRegistry(Path root, String db, String name) {
        return new ServeConfig(Path.of("."), null, Map.of(), null, "127.0.0.1", 0, null, 4, 64, 1 << 20,
                "jdbc:sqlite:" + root.resolve("requests.db"), 2048, 0)
                .withRegistry(new ServeConfig.RegistrySource(db, name, null, Duration.ofMillis(50), null));
    }

    /** Waits for the stderr line saying the server will not switch to {@code version}, and returns it. */
    private static String refusal(ByteArrayOutputStream err, String version) throws InterruptedException {
        CancellationTest.await("the server refuses " + version, () -> err.toString(StandardCharsets.UTF_8).contains("cannot switch to " + version));
        return err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("cannot switch to " + version)).findFirst().orElseThrow();
    }

    /** Sends a chat request without a system message to {@code model}; returns its response id. */
    private static String chat(OpenAiServer server, String model) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"My card is lost.\"}]}";
        HttpResponse<String> r = HttpClient.newHttpClient().send(CancellationTest.post("http://127.0.0.1:" + server.port(), "/v1/chat/completions", body),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    /** Appends one SSE chunk's text; false at [DONE]. */
    private static boolean readEvent(BufferedReader in, StringBuilder text) throws Exception {
        for (String line; (line = in.readLine()) != null; ) {
            if (!line.startsWith("data: ")) continue;
            String data = line.substring(6);
            if (data.equals("[DONE]")) return false;
            JsonNode chunk = JSON.readTree(data);
            text.append(chunk.get("choices").get(0).get("text").asText());
            return true;
        }
        return false;
    }

    private static String reference(Path model, Path adapter, int[] prompt, int maxNew) throws Exception {
        try (CausalLM m = Architectures.load(model)) {
            PeftFormat.load(adapter, m);
            var codec = PromptCodec.of(org.jtune.models.tokenizer.Tokenizer.load(model), null, m.config());
            return Generator.generate(m, List.of(prompt), SamplingConfig.greedy(maxNew).withStopIds(codec.stopIds()), codec::decode, null)
                    .getFirst().text();
        }
    }

    /** A finished LoRA run folder over {@code model} with a random adapter drawn from {@code seed}. */
    private static Path run(Path root, String name, Path model, long seed) throws Exception {
        Path run = runFolder(root, name, model, "adapter: lora\nlora_r: 4\n");
        TestServer.makeAdapter(model, run.resolve("adapter"), seed);
        return run;
    }

    /** A finished full fine-tuning run folder whose model/ is {@code model} with {@code system} recorded as training records it. */
    private static Path fullRun(Path root, String name, Path model, String system) throws Exception {
        Path run = runFolder(root, name, model, "");
        Path full = Files.createDirectories(run.resolve("model"));
        try (var files = Files.list(model)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, full.resolve(f.getFileName()));
        }
        PromptFormat.write(full, full, ChatTemplate.resolve(full, "chatml", "chat_template"), system);
        return run;
    }

    /** A run folder's config.yaml (with {@code recipeKeys} added) and metrics.jsonl, without the trained artifact. */
    private static Path runFolder(Path root, String name, Path model, String recipeKeys) throws Exception {
        Path data = FakeRun.data(root);
        Path run = root.resolve("runs").resolve(name);
        Files.createDirectories(run);
        Files.writeString(run.resolve("config.yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                """.formatted(model, data.resolve("train.jsonl")) + recipeKeys);
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":1,\"epoch\":1.0,\"elapsed\":1.0,\"loss\":2.5,\"lr\":0.001}\n");
        return run;
    }
}
