package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.jtune.models.chat.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /tokenize, /detokenize and /tokenizer_info in vLLM's shapes, as lm-evaluation-harness's remote tokenizer calls them
 * (it uses the server's tokenizer when /tokenizer_info has "eos_token" and /tokenize of "test" gives a list): the ids are
 * the served tokenizer's, with or without special tokens, or a chat request's prompt for messages; decoding gives the
 * text back; the key, unknown models and bad ids are refused as elsewhere.
 */
class TokenizerEndpointsTest {
    @TempDir
    static Path tmp;
    static TestServer server;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static HttpResponse<String> call(String path, String body, String key) throws Exception {
        return server.send(path, body, key);
    }

    static JsonNode ok(String path, String body) throws Exception {
        HttpResponse<String> r = call(path, body, TestServer.KEY);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static int[] ids(JsonNode tokens) {
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = tokens.get(i).asInt();
        return ids;
    }

    @Test
    void theServedTokenizerAsLmEvaluationHarnessReadsIt() throws Exception {
        JsonNode info = ok("/tokenizer_info", null);
        assertEquals("</s>", info.get("eos_token").asText());
        assertEquals("<s>", info.get("bos_token").asText());
        assertTrue(info.get("chat_template").asText().contains("<|im_start|>"), "the served name's template");
        assertEquals(512, info.get("model_max_length").asInt());
        JsonNode test = ok("/tokenize", "{\"prompt\": \"test\", \"add_special_tokens\": false}");
        assertArrayEquals(server.codec.tokenizer().encode("test", false), ids(test.get("tokens")));

        String text = "Once upon a time, Lily saw a cat.";
        JsonNode plain = ok("/tokenize", "{\"prompt\": " + JSON.writeValueAsString(text) + "}");
        int[] withBos = ids(plain.get("tokens"));
        assertArrayEquals(server.codec.text(text).ids(), withBos, "special tokens by default, as a completions prompt");
        assertEquals(withBos.length, plain.get("count").asInt());
        assertEquals(512, plain.get("max_model_len").asInt());
        assertEquals(text, ok("/detokenize", "{\"tokens\": " + JSON.writeValueAsString(withBos) + "}").get("prompt").asText());

        JsonNode chat = ok("/tokenize", "{\"model\": \"" + TestServer.ADAPTER + "\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");
        assertArrayEquals(server.codec.chat(TestServer.ADAPTER, List.of(Message.user("Hi"))).ids(), ids(chat.get("tokens")));

        assertEquals(401, call("/tokenize", "{\"prompt\": \"x\"}", null).statusCode());
        assertEquals(401, call("/tokenizer_info", null, "wrong").statusCode());
        assertEquals(404, call("/tokenize", "{\"model\": \"nope\", \"prompt\": \"x\"}", TestServer.KEY).statusCode());
        HttpResponse<String> bad = call("/detokenize", "{\"tokens\": [1, 99999]}", TestServer.KEY);
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("tokens[1]"), bad.body());
        assertEquals(405, call("/tokenizer_info", "{}", TestServer.KEY).statusCode());
    }
}
