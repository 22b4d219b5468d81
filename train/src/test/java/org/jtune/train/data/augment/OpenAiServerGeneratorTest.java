package org.jtune.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jtune.JtuneException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenAI wire format against a local HTTP server: the request the generator sends and the replies it reads or refuses. */
class OpenAiServerGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private final List<String> auth = new CopyOnWriteArrayList<>();
    private volatile int status = 200;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/models", ex -> reply(ex.getResponseBody(), ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"para-1\"}]}"));
        server.createContext("/v1/chat/completions", ex -> {
            JsonNode req = JSON.readTree(ex.getRequestBody());
            requests.add(req);
            auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            String content = "echo: " + req.at("/messages/0/content").asText();
            String body = status == 200
                    ? JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
                    .set("message", JSON.createObjectNode().put("role", "assistant").put("content", content)))).toString()
                    : "{\"error\":{\"message\":\"model overloaded\"}}";
            reply(ex.getResponseBody(), ex, status, body);
        });
        server.createContext("/v1/completions", ex -> {
            requests.add(JSON.readTree(ex.getRequestBody()));
            reply(ex.getResponseBody(), ex, 200, "{\"choices\":[{\"text\":\" plain\"}]}");
        });
        server.start();
    }

    private static void reply(java.io.OutputStream out, com.sun.net.httpserver.HttpExchange ex, int code, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(code, b.length);
        out.write(b);
        out.close();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void chatRequestsCarryTheOpenAiFieldsAndTheListedModel() throws Exception {
        var gen = new OpenAiServerGenerator(base(), null, true, "secret", 0.7f, 0.9f, 33, Duration.ofSeconds(10));
        List<String> out = gen.generate(List.of("one", "two"), 40);
        assertEquals(List.of("echo: one", "echo: two"), out);
        JsonNode first = requests.getFirst();
        assertEquals("para-1", first.get("model").asText());
        assertEquals("user", first.at("/messages/0/role").asText());
        assertEquals(33, first.get("max_tokens").asInt());
        assertEquals(0.7, first.get("temperature").asDouble(), 1e-6);
        assertEquals(0.9, first.get("top_p").asDouble(), 1e-6);
        assertEquals(40, first.get("seed").asLong());
        assertEquals(41, requests.get(1).get("seed").asLong());
        assertEquals("Bearer secret", auth.getFirst());
        assertTrue(gen.describe().contains("/v1/chat/completions model para-1"), gen.describe());
    }

    @Test
    void plainCompletionsForBaseModels() throws Exception {
        var gen = new OpenAiServerGenerator(base() + "/v1/", "m", false, null, 0f, 1f, 5, Duration.ofSeconds(10));
        assertEquals(List.of(" plain"), gen.generate(List.of("Once upon"), 0));
        assertEquals("Once upon", requests.getFirst().get("prompt").asText());
        assertEquals("m", requests.getFirst().get("model").asText());
    }

    @Test
    void errorsQuoteTheServer() throws Exception {
        status = 503;
        var gen = new OpenAiServerGenerator(base(), "m", true, null, 0f, 1f, 5, Duration.ofSeconds(10));
        JtuneException e = assertThrows(JtuneException.class, () -> gen.generate(List.of("x"), 0));
        assertTrue(e.getMessage().contains("HTTP 503") && e.getMessage().contains("model overloaded"), e.getMessage());
        server.stop(0);
        JtuneException down = assertThrows(JtuneException.class, () -> gen.generate(List.of("x"), 0));
        assertTrue(down.getMessage().contains("is the server running?"), down.getMessage());
        assertThrows(JtuneException.class, () -> new OpenAiServerGenerator("ftp://host", "m", true, null, 0f, 1f, 5, Duration.ofSeconds(1)));
    }
}
