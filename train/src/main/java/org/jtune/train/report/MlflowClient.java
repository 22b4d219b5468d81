package org.jtune.train.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * A small client of an MLflow tracking server's REST API 2.0 (java.net.http, no MLflow library):
 * find or create an experiment, create a run, log params and metrics in batches, and set the
 * run's final status. Batches respect MLflow's log-batch limits (1000 metrics, 100 params per
 * request); param values are cut to 500 characters, the length every MLflow store accepts.
 * Failures are {@link JtuneException}s naming the server, the endpoint and MLflow's error code.
 */
public final class MlflowClient {
    /** One metric value; timestamp in milliseconds since the epoch. */
    public record Metric(String key, double value, long timestampMs, long step) {}

    public enum RunStatus { RUNNING, SCHEDULED, FINISHED, FAILED, KILLED }

    static final int MAX_METRICS = 1000, MAX_PARAMS = 100, MAX_PARAM_LENGTH = 500;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API = "/api/2.0/mlflow/";

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;

    public MlflowClient(URI trackingUri, HttpClient http, Duration timeout) {
        String s = trackingUri.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        this.http = http;
        this.timeout = timeout;
    }

    /** A client with a 10-second timeout per request. */
    public static MlflowClient of(String trackingUri) {
        return new MlflowClient(URI.create(trackingUri), HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                Duration.ofSeconds(10));
    }

    /** The id of the experiment called {@code name}, created when it does not exist. */
    public String experimentId(String name) throws JtuneException {
        Response r = call("GET", "experiments/get-by-name?experiment_name=" + URLEncoder.encode(name, StandardCharsets.UTF_8), null);
        if (r.ok()) return text(r, "experiment", "experiment_id");
        if (!"RESOURCE_DOES_NOT_EXIST".equals(r.errorCode())) throw r.failure();
        ObjectNode body = JSON.createObjectNode().put("name", name);
        Response c = call("POST", "experiments/create", body);
        if (!c.ok()) throw c.failure();
        return text(c, "experiment_id");
    }

    /** Starts a run; returns its id. */
    public String createRun(String experimentId, String runName, long startTimeMs, Map<String, String> tags) throws JtuneException {
        ObjectNode body = JSON.createObjectNode().put("experiment_id", experimentId).put("start_time", startTimeMs);
        if (runName != null) body.put("run_name", runName);
        ArrayNode t = body.putArray("tags");
        tags.forEach((k, v) -> t.addObject().put("key", k).put("value", v));
        Response r = call("POST", "runs/create", body);
        if (!r.ok()) throw r.failure();
        return text(r, "run", "info", "run_id");
    }

    /** Logs params and metrics, split into as many log-batch requests as the limits need. */
    public void logBatch(String runId, Map<String, String> params, List<Metric> metrics) throws JtuneException {
        List<Map.Entry<String, String>> ps = new ArrayList<>(params.entrySet());
        for (int i = 0; i < ps.size(); i += MAX_PARAMS) {
            ObjectNode body = JSON.createObjectNode().put("run_id", runId);
            ArrayNode arr = body.putArray("params");
            for (var e : ps.subList(i, Math.min(ps.size(), i + MAX_PARAMS))) {
                String v = e.getValue() == null ? "" : e.getValue();
                if (v.length() > MAX_PARAM_LENGTH) v = v.substring(0, MAX_PARAM_LENGTH - 1) + "…";
                arr.addObject().put("key", e.getKey()).put("value", v);
            }
            post("runs/log-batch", body);
        }
        for (int i = 0; i < metrics.size(); i += MAX_METRICS) {
            ObjectNode body = JSON.createObjectNode().put("run_id", runId);
            ArrayNode arr = body.putArray("metrics");
            for (Metric m : metrics.subList(i, Math.min(metrics.size(), i + MAX_METRICS))) {
                ObjectNode o = arr.addObject().put("key", m.key());
                // protobuf JSON, which MLflow parses, spells non-finite doubles as strings
                if (Double.isFinite(m.value())) o.put("value", m.value());
                else o.put("value", Double.isNaN(m.value()) ? "NaN" : m.value() > 0 ? "Infinity" : "-Infinity");
                o.put("timestamp", m.timestampMs()).put("step", m.step());
            }
            post("runs/log-batch", body);
        }
    }

    /** Metrics of a metrics.jsonl row: every value, at the row's step. */
    public static List<Metric> metricsOf(MetricsRow row, long timestampMs) {
        List<Metric> out = new ArrayList<>();
        row.values().forEach((k, v) -> out.add(new Metric(k, v, timestampMs, row.step())));
        if (Double.isFinite(row.epoch())) out.add(new Metric("epoch", row.epoch(), timestampMs, row.step()));
        return out;
    }

    /** Sets the run's status (FINISHED, FAILED, KILLED at the end) and end time. */
    public void updateRun(String runId, RunStatus status, long endTimeMs) throws JtuneException {
        post("runs/update", JSON.createObjectNode().put("run_id", runId).put("status", status.name()).put("end_time", endTimeMs));
    }

    private void post(String endpoint, ObjectNode body) throws JtuneException {
        Response r = call("POST", endpoint, body);
        if (!r.ok()) throw r.failure();
    }

    private record Response(String endpoint, String server, int status, JsonNode body) {
        boolean ok() {
            return status / 100 == 2;
        }

        String errorCode() {
            return body.path("error_code").asText("");
        }

        JtuneException failure() {
            String detail = body.has("error_code") ? errorCode() + ": " + body.path("message").asText("") : body.toString();
            return new JtuneException("MLflow at " + server + ": " + endpoint + " failed with HTTP " + status + ": " + detail);
        }
    }

    private Response call(String method, String endpoint, ObjectNode body) throws JtuneException {
        URI uri = URI.create(base + API + endpoint);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json");
        if (body == null) {
            b.GET();
        } else {
            b.header("Content-Type", "application/json");
            try {
                b.method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        String name = endpoint.contains("?") ? endpoint.substring(0, endpoint.indexOf('?')) : endpoint;
        HttpResponse<String> resp;
        try {
            resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new JtuneException("cannot reach MLflow at " + base + " (" + name + "): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JtuneException("interrupted while calling MLflow at " + base, e);
        }
        JsonNode json;
        try {
            json = resp.body() == null || resp.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(resp.body());
        } catch (JsonProcessingException e) {
            json = JSON.createObjectNode().put("message", resp.body().length() > 200 ? resp.body().substring(0, 200) : resp.body());
        }
        return new Response(name, base.toString(), resp.statusCode(), json);
    }

    private static String text(Response r, String... path) throws JtuneException {
        JsonNode n = r.body();
        for (String p : path) n = n.path(p);
        if (!n.isTextual() || n.asText().isEmpty()) {
            throw new JtuneException("MLflow at " + r.server() + ": " + r.endpoint() + " answered without " + String.join(".", path) + ": " + r.body());
        }
        return n.asText();
    }
}
