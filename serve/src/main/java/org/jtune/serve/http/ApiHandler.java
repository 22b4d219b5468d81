package org.jtune.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jtune.serve.api.ApiError;
import org.jtune.serve.api.CompletionRequest;
import org.jtune.serve.api.CompletionRequestParser;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.log.FeedbackRecord;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.metrics.ServerMetrics;

/**
 * The routes of the server, on Jetty's core handler API (each request on its own virtual thread):
 * <pre>
 *   GET  /health                  200 {"status":"ok"}, 503 while draining        (no key needed)
 *   GET  /metrics                 Prometheus text                                  (no key needed)
 *   GET  /v1/models[/NAME]        the base model and every adapter
 *   POST /v1/chat/completions     chat completions, whole or streamed
 *   POST /v1/completions          text completions, whole or streamed
 *   POST /v1/feedback             {request_id, rating, correction, comment} into the request log
 *   POST /tokenize, /detokenize   the tokenizer, as vLLM answers them ({@link TokenizerEndpoints})
 *   GET  /tokenizer_info          its special tokens, chat template and context length
 * </pre>
 * Every /v1 route and the tokenizer's check the API key when one is set. Errors are OpenAI-shaped JSON; an unexpected
 * failure is a 500 that names the exception, never a stack trace to the client.
 */
final class ApiHandler extends Handler.Abstract {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Engine engine;
    private final ServerMetrics metrics;
    private final RequestLog log;
    private final ServerOptions options;
    private final ApiKey apiKey;
    private final CompletionEndpoint completions;
    private final TokenizerEndpoints tokenizer;
    private final long startedAt = Instant.now().getEpochSecond();
    private volatile boolean draining;

    ApiHandler(Engine engine, CompletionEndpoint completions, TokenizerEndpoints tokenizer, ServerMetrics metrics, RequestLog log,
               ServerOptions options) {
        this.engine = engine;
        this.completions = completions;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.log = log;
        this.options = options;
        this.apiKey = options.apiKey() == null ? null : new ApiKey(options.apiKey());
    }

    void draining() {
        draining = true;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Exchange ex = new Exchange(request, response, callback);
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        String route = route(path);
        try {
            if (path.equals("/health")) {
                get(method, path);
                ObjectNode o = JSON.createObjectNode().put("status", draining ? "draining" : "ok");
                ex.json(draining ? 503 : 200, o);
            } else if (path.equals("/metrics")) {
                get(method, path);
                ex.send(200, ServerMetrics.CONTENT_TYPE, metrics.scrape());
            } else if (path.startsWith("/v1/")) {
                ApiError refusal = keyRefusal(ex);
                CompletionRequest.Kind kind = completionKind(path);
                if (refusal == null) v1(ex, method, path);
                else if (kind != null && method.equals("POST")) completions.refused(ex, kind, refusal); // answered and logged
                else throw refusal;
            } else if (route.equals("/tokenize") || route.equals("/detokenize") || route.equals("/tokenizer_info")) {
                ApiError refusal = keyRefusal(ex);
                if (refusal != null) throw refusal;
                switch (route) {
                    case "/tokenize" -> {
                        post(method, path);
                        tokenizer.tokenize(ex, ex.body(options.maxBodyBytes()));
                    }
                    case "/detokenize" -> {
                        post(method, path);
                        tokenizer.detokenize(ex, ex.body(options.maxBodyBytes()));
                    }
                    default -> {
                        get(method, path);
                        tokenizer.info(ex, ex.query("model"));
                    }
                }
            } else {
                throw ApiError.notFound("No route " + method + " " + path + ". Routes: /v1/chat/completions, /v1/completions, "
                        + "/v1/models, /v1/feedback, /tokenize, /detokenize, /tokenizer_info, /health, /metrics.", null);
            }
        } catch (ApiError e) {
            try {
                ex.error(e);
            } catch (IOException gone) {
                ex.abort(gone);
            }
        } catch (IOException e) {
            ex.abort(e);
        } catch (RuntimeException e) {
            System.err.println("jtune serve: " + method + " " + path + " failed: " + e);
            try {
                ex.error(ApiError.internal("Internal error: " + e.getClass().getSimpleName()));
            } catch (IOException | RuntimeException gone) {
                ex.abort(e);
            }
        }
        metrics.request(route, ex.status() == 0 ? 499 : ex.status()); // 499: the client left before an answer
        if (!ex.isDone()) ex.abort(new IllegalStateException("no answer written"));
        return true;
    }

    private void v1(Exchange ex, String method, String path) throws ApiError, IOException {
        switch (path) {
            case "/v1/chat/completions" -> {
                post(method, path);
                completions.handle(ex, options.maxBodyBytes(), CompletionRequest.Kind.CHAT);
            }
            case "/v1/completions" -> {
                post(method, path);
                completions.handle(ex, options.maxBodyBytes(), CompletionRequest.Kind.TEXT);
            }
            case "/v1/models" -> {
                get(method, path);
                ObjectNode list = JSON.createObjectNode().put("object", "list");
                var data = list.putArray("data");
                for (String name : engine.modelNames()) data.add(model(name));
                ex.json(200, list);
            }
            case "/v1/feedback" -> {
                post(method, path);
                feedback(ex, ex.body(options.maxBodyBytes()));
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    get(method, path);
                    String name = path.substring("/v1/models/".length());
                    if (!engine.modelNames().contains(name)) throw ApiError.unknownModel(name, engine.modelNames());
                    ex.json(200, model(name));
                } else {
                    throw ApiError.notFound("No route " + method + " " + path + ".", null);
                }
            }
        }
    }

    /** 401 when a key is set and the request does not carry it; else null. */
    private ApiError keyRefusal(Exchange ex) {
        if (apiKey == null) return null;
        String auth = ex.header(HttpHeader.AUTHORIZATION);
        if (auth == null || auth.isBlank()) return ApiError.missingKey();
        return apiKey.matches(auth) ? null : ApiError.wrongKey();
    }

    /** The completion endpoint a path names, or null. */
    private static CompletionRequest.Kind completionKind(String path) {
        return switch (path) {
            case "/v1/chat/completions" -> CompletionRequest.Kind.CHAT;
            case "/v1/completions" -> CompletionRequest.Kind.TEXT;
            default -> null;
        };
    }

    private ObjectNode model(String name) {
        String base = engine.modelNames().getFirst();
        ObjectNode m = JSON.createObjectNode();
        m.put("id", name);
        m.put("object", "model");
        m.put("created", startedAt);
        m.put("owned_by", "jtune");
        m.put("root", base);
        if (name.equals(base)) m.putNull("parent");
        else m.put("parent", base);
        m.put("max_model_len", engine.contextLength());
        return m;
    }

    private void feedback(Exchange ex, byte[] body) throws ApiError, IOException {
        JsonNode json = CompletionRequestParser.readJson(body);
        JsonNode rid = json.get("request_id");
        if (rid == null || !rid.isTextual() || rid.asText().isEmpty()) throw ApiError.invalid("'request_id' must be a non-empty string.", "request_id");
        JsonNode rating = json.get("rating");
        if (rating != null && !rating.isNull() && !rating.isNumber()) throw ApiError.invalid("'rating' must be a number.", "rating");
        String correction = optionalText(json, "correction");
        String comment = optionalText(json, "comment");
        if (log == null) throw ApiError.notFound("This server keeps no request log, so request " + rid.asText() + " is unknown.", "request_id");
        FeedbackRecord record = new FeedbackRecord("fb-" + UUID.randomUUID(), rid.asText(), Instant.now(),
                rating == null || rating.isNull() ? null : rating.doubleValue(), correction, comment);
        boolean found;
        try {
            found = log.feedback(record).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.unavailable("Interrupted while storing feedback.");
        } catch (ExecutionException e) {
            throw ApiError.internal("The feedback could not be stored: " + e.getCause().getMessage());
        }
        if (!found) throw ApiError.notFound("No request with id " + rid.asText() + " in the request log.", "request_id");
        ObjectNode o = JSON.createObjectNode();
        o.put("id", record.id());
        o.put("object", "feedback");
        o.put("request_id", record.requestId());
        o.put("created", record.createdAt().getEpochSecond());
        ex.json(200, o);
    }

    private static String optionalText(JsonNode json, String name) throws ApiError {
        JsonNode v = json.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiError.invalid("'" + name + "' must be a string.", name);
        return v.asText();
    }

    private static void get(String method, String path) throws ApiError {
        if (!method.equals("GET") && !method.equals("HEAD")) throw ApiError.methodNotAllowed(method, path);
    }

    private static void post(String method, String path) throws ApiError {
        if (!method.equals("POST")) throw ApiError.methodNotAllowed(method, path);
    }

    /** The metrics label of a path: a known route, or "other" (bounded label values). */
    private static String route(String path) {
        return switch (path) {
            case "/health", "/metrics", "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/feedback", "/tokenize", "/detokenize",
                 "/tokenizer_info" -> path;
            default -> path.startsWith("/v1/models/") ? "/v1/models/{model}" : "other";
        };
    }
}
