package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.models.structured.JsonRecognizer;
import org.jtune.models.structured.JsonShape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * response_format through the official OpenAI Java SDK against `jtune serve` on stories260K (a story model that
 * has never seen JSON): the SDK's structured outputs from a Java class (it derives the schema, the server
 * constrains generation to it, the SDK parses the answer into the class), json_object (cut by the token limit:
 * still a prefix of an object), a streamed json_schema
 * answer, the base model and the adapter, and a schema keyword the server cannot enforce refused with its path.
 */
class StructuredOutputTest {
    @TempDir
    static Path tmp;
    static TestServer server;
    static OpenAIClient client;
    static final ObjectMapper JSON = new ObjectMapper();

    public enum Category { BILLING, CARD, REFUND }

    public enum Channel { EMAIL, PHONE }

    public static class Contact {
        public Channel channel;
        public boolean callBack;
    }

    /**
     * What the SDK turns into a JSON Schema (all fields required, no other keys) and parses the answer into. No free
     * strings or lists: a story model writes prose into a string (or items into a list) until the token limit.
     */
    public static class Ticket {
        public Category category;
        public boolean urgent;
        public int priority;
        public Contact contact;
        public Category escalateTo;
    }

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static ChatCompletionCreateParams.Builder ask(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("My card was charged twice.").maxCompletionTokens(300).temperature(0.0);
    }

    @Test
    void theSdkParsesTheAnswerIntoTheClassItDerivedTheSchemaFrom() {
        for (String model : List.of(TestServer.BASE, TestServer.ADAPTER)) {
            StructuredChatCompletion<Ticket> c = client.chat().completions().create(ask(model).responseFormat(Ticket.class).build());
            Ticket t = c.choices().getFirst().message().content().orElseThrow();
            assertNotNull(t.category, model);
            assertNotNull(t.contact.channel, model);
            assertNotNull(t.escalateTo, model);
            assertEquals("stop", c.choices().getFirst().finishReason().asString(), model);
        }
    }

    @Test
    void jsonObjectAnswersAreAnObjectOrItsPrefixCutByTheLimit() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask(TestServer.BASE)
                .responseFormat(ResponseFormatJsonObject.builder().build()).maxCompletionTokens(200).build());
        String content = c.choices().getFirst().message().content().orElseThrow();
        String finish = c.choices().getFirst().finishReason().asString();
        // a story model fills a free string with prose: the limit usually cuts it, as OpenAI's API does ("length")
        if (finish.equals("stop")) assertTrue(JSON.readTree(content).isObject(), content);
        else {
            assertEquals("length", finish);
            JsonRecognizer alive = JsonRecognizer.start(JsonShape.ANY_OBJECT).advance(content.getBytes(StandardCharsets.UTF_8));
            assertNotNull(alive, "every byte continues a JSON object: " + content);
            assertTrue(content.strip().startsWith("{"), content);
        }
    }

    @Test
    void aStreamedSchemaAnswerIsValidWhenItsChunksAreJoined() throws Exception {
        ResponseFormatJsonSchema.JsonSchema.Schema schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of(
                        "label", Map.of("enum", List.of("billing", "card", "refund")),
                        "score", Map.of("type", "number"))))
                .putAdditionalProperty("required", JsonValue.from(List.of("label", "score")))
                .putAdditionalProperty("additionalProperties", JsonValue.from(false))
                .build();
        var format = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("label").schema(schema).strict(true).build()).build();
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ask(TestServer.BASE).responseFormat(format).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        }
        JsonNode value = JSON.readTree(text.toString());
        assertTrue(List.of("billing", "card", "refund").contains(value.get("label").asText()), text.toString());
        assertTrue(value.get("score").isNumber(), text.toString());
        assertEquals(2, value.size(), text.toString());
    }

    @Test
    void aKeywordTheServerCannotEnforceIsA400NamingIt() {
        ResponseFormatJsonSchema.JsonSchema.Schema schema = ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of("id", Map.of("type", "string", "pattern", "^[A-Z]{3}$"))))
                .build();
        var format = ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("id").schema(schema).build()).build();
        var e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(ask(TestServer.BASE).responseFormat(format).build()));
        assertEquals("response_format.json_schema.schema", e.param().orElseThrow());
        assertTrue(e.getMessage().contains("/properties/id") && e.getMessage().contains("pattern"), e.getMessage());
    }
}
