package org.jtune.train.data.augment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;

/**
 * Paraphrases from a running OpenAI-compatible server (jtune serve, llama.cpp's server, vLLM,
 * Ollama, ...) over plain HTTP/JSON with the JDK's HttpClient: one POST per prompt to
 * {@code BASE/v1/chat/completions} with {@code {"model","messages":[{"role":"user",..}],
 * "max_tokens","temperature","top_p","seed"}}, reading {@code choices[0].message.content}; or, for
 * base models, to {@code BASE/v1/completions} with {@code "prompt"}, reading {@code choices[0].text}.
 * The base URL may end in /v1 or not. Without a model name, the first model listed at
 * {@code BASE/v1/models} is asked. An API key, when given, goes in a Bearer header. Any status
 * other than 200 or a reply without the expected field is an error that quotes the server.
 */
public final class OpenAiServerGenerator implements ParaphraseGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final URI models;
    private String modelName;
    private final boolean chat;
    private final String apiKey;
    private final float temperature;
    private final float topP;
    private final int maxTokens;
    private final Duration timeout;
    private final HttpClient client;

    /**
     * @param baseUrl   e.g. http://localhost:8080 or http://localhost:8080/v1
     * @param modelName the "model" field; null: the first model the server lists at /v1/models
     * @param chat      chat completions (true) or plain completions
     * @param apiKey    a bearer token, or null
     */
    public OpenAiServerGenerator(String baseUrl, String modelName, boolean chat, String apiKey, float temperature, float topP,
                                 int maxTokens, Duration timeout) throws JtuneException {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        if (!base.endsWith("/v1")) base += "/v1";
        try {
            this.endpoint = URI.create(base + (chat ? "/chat/completions" : "/completions"));
            this.models = URI.create(base + "/models");
        } catch (IllegalArgumentException e) {
            throw new JtuneException("--server " + baseUrl + ": not a URL (" + e.getMessage() + ")");
        }
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new JtuneException("--server " + baseUrl + ": expected an http:// or https:// URL");
        }
        this.modelName = modelName;
        this.chat = chat;
        this.apiKey = apiKey;
        this.temperature = temperature;
        this.topP = topP;
        this.maxTokens = maxTokens;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Override
    public List<String> generate(List<String> prompts, long seed) throws JtuneException {
        List<String> out = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) out.add(one(prompts.get(i), seed + i));
        return out;
    }

    private String one(String prompt, long seed) throws JtuneException {
        if (modelName == null) modelName = firstModel();
        ObjectNode body = JSON.createObjectNode();
        body.put("model", modelName);
        if (chat) body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        else body.put("prompt", prompt);
        body.put("max_tokens", maxTokens);
        body.put("temperature", temperature);
        body.put("top_p", topP);
        body.put("seed", seed);
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        if (apiKey != null) request.header("Authorization", "Bearer " + apiKey);
        HttpResponse<String> response = send(request.build(), endpoint);
        JsonNode reply = json(response, endpoint);
        JsonNode text = chat ? reply.at("/choices/0/message/content") : reply.at("/choices/0/text");
        if (!text.isTextual()) {
            throw new JtuneException(endpoint + ": the reply has no " + (chat ? "choices[0].message.content" : "choices[0].text")
                    + ": " + excerpt(response.body()));
        }
        return text.asText();
    }

    /** The id of the first model the server lists; the server's own choice when it lists none. */
    private String firstModel() throws JtuneException {
        HttpRequest.Builder request = HttpRequest.newBuilder(models).timeout(timeout).GET();
        if (apiKey != null) request.header("Authorization", "Bearer " + apiKey);
        JsonNode id = json(send(request.build(), models), models).at("/data/0/id");
        return id.isTextual() ? id.asText() : "default";
    }

    private HttpResponse<String> send(HttpRequest request, URI uri) throws JtuneException {
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new JtuneException(uri + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + " (is the server running?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JtuneException(uri + ": interrupted", e);
        }
        if (response.statusCode() != 200) {
            throw new JtuneException(uri + ": HTTP " + response.statusCode() + ": " + excerpt(response.body()));
        }
        return response;
    }

    private static JsonNode json(HttpResponse<String> response, URI uri) throws JtuneException {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new JtuneException(uri + ": the reply is not JSON: " + excerpt(response.body()));
        }
    }

    private static String excerpt(String body) {
        String one = body == null ? "" : body.replaceAll("\\s+", " ").strip();
        return one.length() <= 300 ? one : one.substring(0, 300) + "...";
    }

    @Override
    public String describe() {
        return "server " + endpoint + (modelName == null ? "" : " model " + modelName);
    }
}
