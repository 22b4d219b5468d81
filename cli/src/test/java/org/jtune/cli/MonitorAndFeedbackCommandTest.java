package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jtune.eval.human.Csv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `jtune monitor check|drift` and `jtune data from-feedback` on a request log written with the server's
 * schema.sql: exit codes, JSON, the alert POSTed to a local webhook, and the exported JSONL and review sheet.
 */
class MonitorAndFeedbackCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Connection log(Path file) throws Exception {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        String schema;
        try (InputStream in = MonitorAndFeedbackCommandTest.class.getResourceAsStream("/org/jtune/serve/log/schema.sql")) {
            schema = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Statement s = c.createStatement()) {
            for (String block : schema.split("\\n\\s*\\n")) {
                StringBuilder sb = new StringBuilder();
                for (String line : block.split("\\n")) sb.append(line.contains("--") ? line.substring(0, line.indexOf("--")) : line).append('\n');
                if (!sb.toString().isBlank()) s.execute(sb.toString());
            }
        }
        return c;
    }

    static void request(Connection c, String id, Instant at, String user, String output, int status, double latency) throws Exception {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO requests (id, created_at, endpoint, model, model_version, request_json, output_text, "
                + "prompt_tokens, completion_tokens, latency_ms, finish_reason, status) VALUES (?, ?, '/v1/chat/completions', 'tickets', 'tickets:1', ?, ?, 5, 1, ?, ?, ?)")) {
            p.setString(1, id);
            p.setString(2, org.jtune.serve.registry.Clock.format(at));
            p.setString(3, "{\"model\":\"tickets\",\"messages\":[{\"role\":\"system\",\"content\":\"Route the ticket.\"},{\"role\":\"user\",\"content\":"
                    + JSON.writeValueAsString(user) + "}]}");
            p.setString(4, output);
            p.setDouble(5, latency);
            p.setString(6, status == 200 ? "stop" : "error");
            p.setInt(7, status);
            p.executeUpdate();
        }
    }

    static void feedback(Connection c, String id, String request, Instant at, Double rating, String correction) throws Exception {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO feedback (id, request_id, created_at, rating, correction) VALUES (?, ?, ?, ?, ?)")) {
            p.setString(1, id);
            p.setString(2, request);
            p.setString(3, org.jtune.serve.registry.Clock.format(at));
            if (rating == null) p.setNull(4, java.sql.Types.DOUBLE);
            else p.setDouble(4, rating);
            p.setString(5, correction);
            p.executeUpdate();
        }
    }

    @Test
    void monitorCheckAlertsAndPostsDriftJudgesAgainstTheTrainingData(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("log.db");
        StringBuilder train = new StringBuilder();
        String[] queues = {"billing", "network", "access"};
        for (int i = 0; i < 120; i++) {
            train.append("{\"messages\":[{\"role\":\"user\",\"content\":\"my ").append(queues[i % 3]).append(" problem number ").append(i % 40)
                    .append(" is still open\"},{\"role\":\"assistant\",\"content\":\"").append(queues[i % 3]).append("\"}]}\n");
        }
        Path trainFile = Files.writeString(dir.resolve("train.jsonl"), train);
        Instant t = Instant.now().minusSeconds(600);
        try (Connection c = log(db)) {
            for (int i = 0; i < 60; i++) request(c, "r" + i, t.plusSeconds(i), "my " + queues[i % 3] + " problem number " + (i % 40) + " is still open",
                    queues[i % 3], i % 10 == 0 ? 500 : 200, 100 + i);
        }
        List<String> posted = new CopyOnWriteArrayList<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hook.createContext("/alert", ex -> {
            posted.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
        try {
            String url = "http://127.0.0.1:" + hook.getAddress().getPort() + "/alert";
            var check = RegistryAcceptanceTest.jtune("monitor", "check", "--log-db", db.toString(), "--window", "1h", "--json", "--alert-url", url);
            assertEquals(1, check.exit(), check.err());
            JsonNode report = JSON.readTree(check.out());
            assertEquals(0.1, report.get("groups").get("all").get("error_rate").asDouble(), 1e-12);
            assertEquals(1, posted.size());
            assertEquals(report, JSON.readTree(posted.getFirst()));

            Path lenient = Files.writeString(dir.resolve("t.yaml"), "error_rate: 0.2\n");
            var ok = RegistryAcceptanceTest.jtune("monitor", "check", "--log-db", db.toString(), "--thresholds", lenient.toString(), "--alert-url", url);
            assertEquals(0, ok.exit(), ok.err());
            assertEquals(1, posted.size(), "no alert, no POST");
            assertEquals(2, RegistryAcceptanceTest.jtune("monitor", "check", "--log-db", dir.resolve("nope.db").toString()).exit());
            assertEquals(2, RegistryAcceptanceTest.jtune("monitor", "check", "--log-db", db.toString(), "--window", "soon").exit());

            var drift = RegistryAcceptanceTest.jtune("monitor", "drift", "--log-db", db.toString(), "--reference", trainFile.toString(), "--window", "all",
                    "--json", "--out", dir.resolve("drift.json").toString());
            assertEquals(0, drift.exit(), drift.err());
            assertEquals(54, JSON.readTree(drift.out()).get("traffic_prompts").asInt(), "the 6 failed requests are left out");
            assertTrue(Files.exists(dir.resolve("drift.json")));
        } finally {
            hook.stop(0);
        }
    }

    @Test
    void fromFeedbackWritesCorrectionsAndGoodAnswersSkipsLeaksAndDuplicates(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("log.db");
        Path test = Files.writeString(dir.resolve("test.jsonl"), """
                {"messages":[{"role":"user","content":"VPN drops every hour"},{"role":"assistant","content":"network"}]}
                """);
        Instant t = Instant.now().minusSeconds(600);
        try (Connection c = log(db)) {
            request(c, "a", t, "Printer on floor 3 is jammed", "network", 200, 10);
            request(c, "b", t.plusSeconds(1), "I was charged twice", "billing", 200, 10);
            request(c, "c", t.plusSeconds(2), "vpn drops, every hour!", "network", 200, 10);        // the test set's prompt, normalised
            request(c, "d", t.plusSeconds(3), "Printer on floor 3 is jammed", "network", 200, 10); // same as a
            request(c, "e", t.plusSeconds(4), "Reset my password", "billing", 200, 10);
            request(c, "f", t.plusSeconds(5), "boom", null, 500, 10);
            feedback(c, "fb1", "a", t.plusSeconds(10), -1.0, "hardware");
            feedback(c, "fb2", "b", t.plusSeconds(11), 1.0, null);
            feedback(c, "fb3", "c", t.plusSeconds(12), -1.0, "network");
            feedback(c, "fb4", "d", t.plusSeconds(13), -1.0, "Hardware");
            feedback(c, "fb5", "e", t.plusSeconds(14), -1.0, null);
            feedback(c, "fb6", "e", t.plusSeconds(15), -1.0, "access");  // later feedback on e wins
            feedback(c, "fb7", "f", t.plusSeconds(16), -1.0, "billing");
            feedback(c, "fb8", "zzz", t.plusSeconds(17), 1.0, null);
        }
        Path out = dir.resolve("feedback.jsonl");
        var r = RegistryAcceptanceTest.jtune("data", "from-feedback", "--log-db", db.toString(), "--out", out.toString(), "--min-rating", "1",
                "--test", test.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size(), String.join("\n", lines));
        JsonNode first = JSON.readTree(lines.get(0)).get("messages");
        assertEquals("Printer on floor 3 is jammed", first.get(1).get("content").asText());
        assertEquals("hardware", first.get(2).get("content").asText(), "the correction is the answer");
        assertEquals("assistant", first.get(2).get("role").asText());
        assertEquals("billing", JSON.readTree(lines.get(1)).get("messages").get(2).get("content").asText(), "well rated: the model's answer");
        assertEquals("access", JSON.readTree(lines.get(2)).get("messages").get(2).get("content").asText());

        List<Csv.Row> sheet = Csv.parse(Files.readString(dir.resolve("feedback.review.csv")), "review");
        assertEquals(9, sheet.size(), "header and one row per feedback");
        java.util.Map<String, String> reason = new java.util.HashMap<>();
        for (Csv.Row row : sheet.subList(1, sheet.size())) reason.put(row.fields().get(0), row.fields().get(3) + ": " + row.fields().get(4));
        assertTrue(reason.get("fb3").startsWith("skipped: leak: same prompt after normalisation as test.jsonl:1"), reason.get("fb3"));
        assertTrue(reason.get("fb4").startsWith("skipped: duplicate of request a"), reason.get("fb4"));
        assertTrue(reason.get("fb5").startsWith("skipped: superseded"), reason.get("fb5"));
        assertTrue(reason.get("fb7").startsWith("skipped: request failed"), reason.get("fb7"));
        assertTrue(reason.get("fb8").startsWith("skipped: request not in the log"), reason.get("fb8"));
        assertTrue(reason.get("fb1").startsWith("written: correction"), reason.get("fb1"));
    }
}
