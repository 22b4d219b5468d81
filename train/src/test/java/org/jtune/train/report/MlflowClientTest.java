package org.jtune.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the client against an in-process fake of the MLflow tracking server that records every request. */
class MlflowClientTest {
    record Request(String method, String path, String query, JsonNode body) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> experiments = new LinkedHashMap<>();
    private MlflowClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/2.0/mlflow/", ex -> {
            String path = ex.getRequestURI().getPath().substring("/api/2.0/mlflow/".length());
            String query = ex.getRequestURI().getRawQuery();
            byte[] in = ex.getRequestBody().readAllBytes();
            JsonNode body = in.length == 0 ? null : JSON.readTree(in);
            requests.add(new Request(ex.getRequestMethod(), path, query, body));
            int status = 200;
            String reply;
            switch (path) {
                case "experiments/get-by-name" -> {
                    String name = java.net.URLDecoder.decode(query.substring("experiment_name=".length()), StandardCharsets.UTF_8);
                    String id = experiments.get(name);
                    if (id == null) {
                        status = 404;
                        reply = "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"Could not find experiment with name '" + name + "'\"}";
                    } else {
                        reply = "{\"experiment\":{\"experiment_id\":\"" + id + "\",\"name\":\"" + name + "\"}}";
                    }
                }
                case "experiments/create" -> {
                    String id = Integer.toString(experiments.size() + 1);
                    experiments.put(body.get("name").asText(), id);
                    reply = "{\"experiment_id\":\"" + id + "\"}";
                }
                case "runs/create" -> reply = "{\"run\":{\"info\":{\"run_id\":\"run-abc\",\"status\":\"RUNNING\"}}}";
                case "runs/log-batch" -> {
                    if (body.path("run_id").asText().equals("missing")) {
                        status = 400;
                        reply = "{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"Run 'missing' not found\"}";
                    } else {
                        reply = "{}";
                    }
                }
                case "runs/update" -> reply = "{\"run_info\":{\"run_id\":\"run-abc\",\"status\":\"" + body.get("status").asText() + "\"}}";
                default -> {
                    status = 404;
                    reply = "{\"error_code\":\"ENDPOINT_NOT_FOUND\",\"message\":\"no " + path + "\"}";
                }
            }
            byte[] out = reply.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
        client = MlflowClient.of("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void findsOrCreatesTheExperiment() throws JtuneException {
        assertEquals("1", client.experimentId("jtune banking"));
        assertEquals("1", client.experimentId("jtune banking"));
        assertEquals(List.of("GET experiments/get-by-name experiment_name=jtune+banking", "POST experiments/create null",
                "GET experiments/get-by-name experiment_name=jtune+banking"),
                requests.stream().map(r -> r.method() + " " + r.path() + " " + r.query()).toList());
        assertEquals("jtune banking", requests.get(1).body().get("name").asText());
    }

    @Test
    void runLifecycle() throws JtuneException {
        String run = client.createRun("7", "lora-r8", 1_700_000_000_000L, Map.of("jtune.version", "0.1.0"));
        assertEquals("run-abc", run);
        JsonNode create = requests.get(0).body();
        assertEquals("7", create.get("experiment_id").asText());
        assertEquals(1_700_000_000_000L, create.get("start_time").asLong());
        assertEquals("lora-r8", create.get("run_name").asText());
        assertEquals("jtune.version", create.get("tags").get(0).get("key").asText());

        MetricsRow row = MetricsRow.at(20, 0.5, 3).with("loss", 1.25).with("val_loss", Double.NaN);
        client.logBatch(run, Map.of("learning_rate", "0.0002"), MlflowClient.metricsOf(row, 1_700_000_001_000L));
        client.updateRun(run, MlflowClient.RunStatus.FINISHED, 1_700_000_002_000L);

        JsonNode params = requests.get(1).body();
        assertEquals("run-abc", params.get("run_id").asText());
        assertEquals("{\"key\":\"learning_rate\",\"value\":\"0.0002\"}", params.get("params").get(0).toString());
        JsonNode metrics = requests.get(2).body().get("metrics");
        assertEquals("{\"key\":\"loss\",\"value\":1.25,\"timestamp\":1700000001000,\"step\":20}", metrics.get(0).toString());
        assertEquals("NaN", metrics.get(1).get("value").asText());
        assertEquals("epoch", metrics.get(2).get("key").asText());
        JsonNode update = requests.get(3).body();
        assertEquals("FINISHED", update.get("status").asText());
        assertEquals(1_700_000_002_000L, update.get("end_time").asLong());
        assertEquals("runs/update", requests.get(3).path());
    }

    @Test
    void batchesRespectMlflowLimits() throws JtuneException {
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < 150; i++) params.put("p" + i, i == 0 ? "x".repeat(600) : "v");
        List<MlflowClient.Metric> metrics = new ArrayList<>();
        for (int i = 0; i < 2500; i++) metrics.add(new MlflowClient.Metric("loss", i, 1, i));
        client.logBatch("r", params, metrics);
        List<Integer> paramCounts = new ArrayList<>(), metricCounts = new ArrayList<>();
        for (Request r : requests) {
            paramCounts.add(r.body().path("params").size());
            metricCounts.add(r.body().path("metrics").size());
        }
        assertEquals(List.of(100, 50, 0, 0, 0), paramCounts);
        assertEquals(List.of(0, 0, 1000, 1000, 500), metricCounts);
        assertEquals(500, requests.get(0).body().get("params").get(0).get("value").asText().length());
        assertEquals(2499, requests.get(4).body().get("metrics").get(499).get("step").asLong());
    }

    @Test
    void errorsNameServerEndpointAndMlflowCode() {
        var e = assertThrows(JtuneException.class, () -> client.logBatch("missing", Map.of("a", "b"), List.of()));
        assertTrue(e.getMessage().endsWith("runs/log-batch failed with HTTP 400: INVALID_PARAMETER_VALUE: Run 'missing' not found"), e.getMessage());
        assertTrue(e.getMessage().startsWith("MLflow at http://127.0.0.1:"), e.getMessage());
        int port = server.getAddress().getPort();
        server.stop(0);
        var down = assertThrows(JtuneException.class, () -> MlflowClient.of("http://127.0.0.1:" + port).experimentId("x"));
        assertTrue(down.getMessage().startsWith("cannot reach MLflow at http://127.0.0.1:" + port + " (experiments/get-by-name)"), down.getMessage());
    }
}
