package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.RateLimitException;
import com.openai.models.completions.CompletionCreateParams;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.jtune.serve.engine.BatchingEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that go away cancel their sequence at once (the engine sees the cancel, frees the KV cache,
 * and nothing keeps running), a full queue answers 429, and the request log records what happened.
 */
class CancellationTest {
    static String body(String model, int maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"stream\":"
                + stream + "}";
    }

    static HttpRequest post(TestServer s, String path, String body) {
        return post(s.baseUrl(), path, body);
    }

    static HttpRequest post(String baseUrl, String path, String body) {
        return HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Authorization", "Bearer " + TestServer.KEY)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Sends a request on a raw socket, reads {@code events} SSE data lines (or waits {@code millis} when 0), then drops the connection. */
    static void dropAfter(TestServer s, String body, int events, long millis) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TestServer.KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
            if (events == 0) {
                Thread.sleep(millis);
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int seen = 0;
            for (String line; seen < events && (line = in.readLine()) != null; ) if (line.startsWith("data: ")) seen++;
            assertEquals(events, seen);
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void clientsThatGoAwayCancelTheirSequencesAndTheOthersFinish(@TempDir Path tmp) throws Exception {
        PacedEngine[] paced = new PacedEngine[1];
        try (TestServer s = TestServer.start(tmp, new BatchingEngine.Options(4, 16), e -> paced[0] = new PacedEngine(e, 4))) {
            var engine = s.server.engine();
            HttpClient http = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> full = new ArrayList<>();
            for (int i = 0; i < 4; i++) full.add(http.sendAsync(post(s, "/v1/completions", body(TestServer.BASE, 25, true)), HttpResponse.BodyHandlers.ofString()));
            // two streams that stop reading mid-way and close: one raw socket, one the official SDK
            dropAfter(s, body(TestServer.BASE, 450, true), 3, 0);
            OpenAIClient sdk = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
            try (var stream = sdk.completions().createStreaming(CompletionCreateParams.builder().model(TestServer.BASE)
                    .prompt("Once upon a time").maxTokens(450L).temperature(0.0).build())) {
                var it = stream.stream().iterator();
                for (int i = 0; i < 3; i++) it.next();
            }
            for (var f : full) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode());
                assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
            }
            await("no sequence runs and no KV block is held", () -> engine.gauges().running() == 0 && engine.gauges().kvBlocksInUse() == 0
                    && engine.gauges().waiting() == 0);
            assertEquals(2, engine.gauges().cancelledRequests());
            assertEquals(6, engine.gauges().finishedRequests());
            // a non-streaming request whose client leaves before the answer is cancelled as well
            long before = engine.gauges().cancelledRequests();
            dropAfter(s, body(TestServer.BASE, 450, false), 0, 300);
            await("the engine saw the cancel", () -> engine.gauges().cancelledRequests() == before + 1);
            await("nothing runs", () -> engine.gauges().running() == 0 && engine.gauges().kvBlocksInUse() == 0);
            // 450 tokens at >= 4 ms each take > 1.8 s: the cancel came well before the end
            assertTrue(engine.gauges().generatedTokens() < 4 * 25 + 3 * 450, "generated " + engine.gauges().generatedTokens());
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("requests.db"));
             var rs = c.createStatement().executeQuery("SELECT finish_reason, status, completion_tokens FROM requests ORDER BY created_at")) {
            int cancelled = 0, length = 0;
            while (rs.next()) {
                if ("cancelled".equals(rs.getString(1))) {
                    cancelled++;
                    assertTrue(rs.getInt(3) < 450, "cancelled early: " + rs.getInt(3));
                } else if ("length".equals(rs.getString(1))) {
                    length++;
                    assertEquals(200, rs.getInt(2));
                    assertEquals(25, rs.getInt(3));
                }
            }
            assertEquals(3, cancelled);
            assertEquals(4, length);
        }
    }

    /**
     * The acceptance scenario, scaled to the tiny model (`jtune bench serve` runs it at full size,
     * 64 + 64): streams of which a quarter disconnect mid-way, then plain requests, on a paged KV cache whose
     * budget (32 blocks of 16 positions: room for one 400-token stream, not for every stream at once) makes
     * sequences be preempted and recomputed while others are cancelled.
     */
    @Test
    void underConcurrentStreamsWithDisconnectsNothingFailsAndNothingStaysHeld(@TempDir Path tmp) throws Exception {
        long block = 2L * 4 * 5 * 16 * 4 * 8; // stories260K: 5 layers, 4 KV heads of 8, F32 keys and values
        try (TestServer s = TestServer.start(tmp, new BatchingEngine.Options(16, 64, 2048, 32 * block), e -> e)) {
            var engine = s.server.engine();
            HttpClient http = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            List<CompletableFuture<Void>> dropped = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                if (i % 4 == 3) {
                    dropped.add(CompletableFuture.runAsync(() -> {
                        try {
                            dropAfter(s, body(TestServer.BASE, 400, true), 3, 0);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    }));
                } else {
                    String model = i % 2 == 0 ? TestServer.BASE : TestServer.ADAPTER;
                    streams.add(http.sendAsync(post(s, "/v1/completions", body(model, 40, true)), HttpResponse.BodyHandlers.ofString()));
                }
            }
            for (var d : dropped) d.get();
            for (var f : streams) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode());
                assertTrue(r.body().endsWith("data: [DONE]\n\n"));
            }
            List<CompletableFuture<HttpResponse<String>>> plain = new ArrayList<>();
            for (int i = 0; i < 16; i++) plain.add(http.sendAsync(post(s, "/v1/completions", body(TestServer.BASE, 20, false)), HttpResponse.BodyHandlers.ofString()));
            for (var f : plain) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.body().contains("\"finish_reason\""));
            }
            await("nothing runs or is held", () -> engine.gauges().running() == 0 && engine.gauges().kvBlocksInUse() == 0
                    && engine.gauges().waiting() == 0);
            assertEquals(4, engine.gauges().cancelledRequests());
            assertEquals(32, engine.gauges().finishedRequests()); // 12 full streams, 4 dropped, 16 plain
            assertEquals(32, engine.gauges().kv().totalBlocks());
            String metrics = metrics(http, s);
            assertTrue(!metrics.contains("status=\"5"), "no 5xx: " + metrics);
        }
    }

    @Test
    void aFullQueueAnswers429AndTheQueuedRequestsStillComplete(@TempDir Path tmp) throws Exception {
        PacedEngine[] paced = new PacedEngine[1];
        try (TestServer s = TestServer.start(tmp, new BatchingEngine.Options(1, 1), e -> paced[0] = new PacedEngine(e, 0))) {
            var engine = s.server.engine();
            paced[0].closeGate();
            HttpClient http = HttpClient.newHttpClient();
            var running = http.sendAsync(post(s, "/v1/completions", body(TestServer.BASE, 5, true)), HttpResponse.BodyHandlers.ofString());
            await("one request runs", () -> engine.gauges().running() == 1);
            var queued = http.sendAsync(post(s, "/v1/completions", body(TestServer.BASE, 5, false)), HttpResponse.BodyHandlers.ofString());
            await("one request waits", () -> engine.gauges().waiting() == 1);
            OpenAIClient sdk = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
            var e = assertThrows(RateLimitException.class, () -> sdk.completions().create(CompletionCreateParams.builder().model(TestServer.BASE)
                    .prompt("Hi").maxTokens(5L).build()));
            assertEquals(429, e.statusCode());
            assertEquals("rate_limit_exceeded", e.code().orElseThrow());
            paced[0].openGate();
            assertEquals(200, running.get().statusCode());
            assertEquals(200, queued.get().statusCode());
            // a response is counted once it has been written out, which may be just after the client has read it
            await("both 200s counted", () -> metrics(http, s).contains("jtune_http_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2.0"));
            String metrics = metrics(http, s);
            assertTrue(metrics.contains("jtune_http_requests_total{endpoint=\"/v1/completions\",status=\"429\"} 1.0"), metrics);
            assertTrue(metrics.contains("jtune_http_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2.0"), metrics);
            for (String name : new String[] {"jtune_time_to_first_token_seconds_bucket", "jtune_inter_token_latency_seconds_bucket",
                    "jtune_request_latency_seconds_bucket", "jtune_engine_queue_depth", "jtune_engine_running_sequences",
                    "jtune_engine_batch_size", "jtune_engine_kv_blocks_in_use", "jtune_engine_tokens_per_second",
                    "jtune_engine_generated_tokens_total 10.0", "jtune_engine_cancelled_requests_total"}) {
                assertTrue(metrics.contains(name), name + " in\n" + metrics);
            }
        }
    }

    private static String metrics(HttpClient http, TestServer s) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
