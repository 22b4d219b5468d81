package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calling through the official OpenAI Java SDK against `jtune serve` on stories260K with a ChatML template (no tool
 * support of its own, so the JSON syntax: tools in the system message, the answer constrained). A story model has no idea
 * what a tool is, so what is checked is what the server guarantees whatever the model: tool_choice required or a named
 * function gives calls of offered tools whose arguments follow their schemas, finish_reason tool_calls, one call when
 * parallel_tool_calls is false (a named function: {@link MistralToolCallingTest}); streamed calls accumulate in the SDK into the same shape; a conversation with the calls and
 * their results goes back in; an unenforceable strict schema is a 400 naming "tools".
 */
class ToolCallingTest {
    @TempDir
    static Path tmp;
    static TestServer server;
    static OpenAIClient client;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> CITIES = Set.of("Paris", "Rome"), ZONES = Set.of("UTC", "CET");

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static FunctionDefinition weather() {
        return FunctionDefinition.builder().name("get_weather").strict(true)
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("enum", List.copyOf(CITIES)))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .putAdditionalProperty("additionalProperties", JsonValue.from(false)).build())
                .build();
    }

    static FunctionDefinition time() {
        return FunctionDefinition.builder().name("get_time")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("zone", Map.of("enum", List.copyOf(ZONES)))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("zone")))
                        .putAdditionalProperty("additionalProperties", JsonValue.from(false)).build())
                .build();
    }

    /**
     * One tool, one call at a time: stories260K's context is 512 tokens, and its 512-token vocabulary spells JSON almost
     * byte by byte (a story model asked for a list of calls may go on listing them until the context is full).
     */
    static ChatCompletionCreateParams.Builder ask() {
        return ChatCompletionCreateParams.builder().model(TestServer.BASE).addUserMessage("Rain in Paris?").addFunctionTool(weather())
                .parallelToolCalls(false).temperature(0.0);
    }

    /** The calls of a choice, each checked against its tool's schema. */
    static List<ChatCompletionMessageFunctionToolCall> checkedCalls(ChatCompletion.Choice choice) throws Exception {
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), () -> choice.message().content().orElse("-"));
        assertTrue(choice.message().content().map(String::isEmpty).orElse(true), "only calls, no text");
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream().map(ChatCompletionMessageToolCall::asFunction).toList();
        assertFalse(calls.isEmpty());
        for (ChatCompletionMessageFunctionToolCall c : calls) {
            assertTrue(c.id().startsWith("call_"), c.id());
            JsonNode args = JSON.readTree(c.function().arguments());
            switch (c.function().name()) {
                case "get_weather" -> {
                    assertEquals(List.of("city"), iterator(args), args.toString());
                    assertTrue(CITIES.contains(args.get("city").asText()), args.toString());
                }
                case "get_time" -> assertTrue(ZONES.contains(args.path("zone").asText()), args.toString());
                default -> throw new AssertionError("a function that was not offered: " + c.function().name());
            }
        }
        return calls;
    }

    static List<String> iterator(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void requiredGivesCallsOfOfferedToolsWithArgumentsOfTheirSchemas() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).n(2).build());
        assertEquals(2, c.choices().size());
        for (ChatCompletion.Choice choice : c.choices()) assertEquals(1, checkedCalls(choice).size());
    }

    @Test
    void theCallsAndTheirResultsGoBackIntoTheConversation() throws Exception {
        ChatCompletion first = client.chat().completions().create(ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        List<ChatCompletionMessageFunctionToolCall> calls = checkedCalls(first.choices().getFirst());
        ChatCompletionCreateParams.Builder next = ask().addMessage(first.choices().getFirst().message());
        for (ChatCompletionMessageFunctionToolCall call : calls) {
            next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"result\": \"dry\"}").build());
        }
        ChatCompletion answer = client.chat().completions().create(next.toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).build());
        ChatCompletion.Choice choice = answer.choices().getFirst();
        assertTrue(choice.message().toolCalls().isEmpty() || choice.message().toolCalls().get().isEmpty(), "tool_choice none: no calls");
        assertFalse(choice.message().content().orElseThrow().isEmpty());
    }

    @Test
    void streamedCallsAccumulateAndNoCallTextLeaksIntoContent() throws Exception {
        checkedCalls(streamed(client, ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()).choices().getFirst());
    }

    /** A streamed answer as the SDK's accumulator puts it together, no chunk carrying text (with tools forced, only calls). */
    static ChatCompletion streamed(OpenAIClient client, ChatCompletionCreateParams params) {
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                acc.accumulate(chunk);
                for (ChatCompletionChunk.Choice ch : chunk.choices()) assertTrue(ch.delta().content().map(String::isEmpty).orElse(true), "content: " + ch.delta().content());
            });
        }
        return acc.chatCompletion();
    }

    @Test
    void anUnenforceableStrictSchemaIsA400NamingTools() {
        FunctionDefinition patterned = FunctionDefinition.builder().name("lookup").strict(true)
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("id", Map.of("type", "string", "pattern", "^[A-Z]{3}$")))).build())
                .build();
        var e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(ask().addFunctionTool(patterned).build()));
        assertEquals("tools", e.param().orElseThrow());
        assertTrue(e.getMessage().contains("pattern"), e.getMessage());
    }
}
