package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.EngineGauges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests refused before their body is read (no key, a wrong key: 401; a body over the limit: 413)
 * reach the request log with their status, endpoint and time; with a KV budget, /metrics shows the
 * block pool: total and cached blocks, prefix lookups and hits, the hit rate and preemptions.
 */
class RefusedRequestsAndPoolGaugesTest {
    @Test
    void refusedRequestsAreLoggedAndThePoolIsOnMetrics(@TempDir Path tmp) throws Exception {
        // 64 blocks of 16 positions for stories260K (5 layers, 4 KV heads of 8): a shared prompt prefix is cached
        long budget = 64L * 2 * 4 * 5 * 16 * 4 * 8;
        try (TestServer s = TestServer.start(tmp, new BatchingEngine.Options(4, 16, 2048, budget), e -> e)) {
            HttpClient http = HttpClient.newHttpClient();
            String body = CancellationTest.body(TestServer.BASE, 4, false);
            var noKey = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, noKey.statusCode());
            var wrongKey = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/chat/completions")).header("Authorization", "Bearer sk-no")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrongKey.statusCode());
            var huge = http.send(CancellationTest.post(s, "/v1/completions", "{\"prompt\":\"" + "a".repeat(70 * 1024) + "\"}"),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(413, huge.statusCode());
            // a prompt of 40 tokens shared by two requests in turn: its first two blocks are computed once
            String prompt = "Once upon a time there was a little girl named Lily. She loved to play outside in the park with her friends.";
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                statuses.add(http.send(CancellationTest.post(s, "/v1/completions", "{\"model\":\"stories\",\"prompt\":\"" + prompt
                        + "\",\"max_tokens\":3,\"temperature\":0}"), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            assertEquals(List.of(200, 200), statuses);
            EngineGauges.KvPoolGauges kv = s.server.engine().gauges().kv();
            assertEquals(64, kv.totalBlocks());
            assertTrue(kv.cachedBlocks() >= 2, "the prompt's full blocks stay cached: " + kv);
            assertTrue(kv.prefixHits() >= 1 && kv.prefixLookups() > kv.prefixHits(), kv.toString());
            String metrics = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(64, metric(metrics, "jtune_engine_kv_blocks_capacity"));
            assertEquals(kv.cachedBlocks(), metric(metrics, "jtune_engine_kv_blocks_cached"));
            assertEquals(kv.prefixHits(), metric(metrics, "jtune_engine_kv_prefix_hits_total"));
            assertEquals(kv.prefixLookups(), metric(metrics, "jtune_engine_kv_prefix_lookups_total"));
            assertEquals(kv.prefixHitRate(), metric(metrics, "jtune_engine_kv_prefix_hit_rate"), 1e-9);
            assertEquals(0, metric(metrics, "jtune_engine_kv_preemptions_total"));
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("requests.db"));
             var rs = c.createStatement().executeQuery("SELECT endpoint, status, created_at, latency_ms, error, request_json FROM requests "
                     + "WHERE status >= 400 ORDER BY created_at, id")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                assertTrue(rs.getString(3).matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), rs.getString(3));
                assertTrue(rs.getDouble(4) >= 0);
                assertTrue(rs.getString(5) != null && !rs.getString(5).isBlank());
                assertEquals("", rs.getString(6)); // the body was never read
                rows.add(rs.getString(1) + " " + rs.getInt(2));
            }
            assertEquals(List.of("/v1/completions 401", "/v1/chat/completions 401", "/v1/completions 413"), rows);
        }
    }

    private static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
        assertTrue(m.find(), name + " in\n" + text);
        return Double.parseDouble(m.group(2));
    }
}
