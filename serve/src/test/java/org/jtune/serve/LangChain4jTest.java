package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.model.output.FinishReason;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jtune.models.chat.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j's OpenAI chat models (blocking and streaming) against `jtune serve` on stories260K, and an AI service
 * whose method returns a record (structured output through response_format json_schema), and a tool call whose request
 * and result go back as LangChain4j writes them.
 */
class LangChain4jTest {
    @TempDir
    static Path tmp;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static OpenAiChatModel.OpenAiChatModelBuilder model(String name) {
        return OpenAiChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(TestServer.KEY).modelName(name).temperature(0.0)
                .maxTokens(24).maxRetries(0);
    }

    @Test
    void chatAnswersAreTheGreedyAnswersWithUsage() throws Exception {
        ChatResponse r = model(TestServer.BASE).build().chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story.")).build());
        int[] prompt = server.codec.chat(TestServer.BASE, List.of(Message.user("Tell me a story."))).ids();
        assertEquals(OpenAiSdkTest.reference(null, prompt, 24, server), r.aiMessage().text());
        assertEquals(prompt.length, r.tokenUsage().inputTokenCount());
        assertEquals(24, r.tokenUsage().outputTokenCount());
        assertEquals(FinishReason.LENGTH, r.finishReason());
    }

    enum Intent { BILLING, CARD, REFUND }

    enum Urgency { LOW, HIGH }

    /** What an AI service returns: LangChain4j derives the JSON Schema, the server constrains the answer to it. */
    record Triage(Intent intent, Urgency urgency, boolean needsHuman) {}

    interface Triager {
        Triage triage(String ticket);
    }

    @Test
    void anAiServiceGetsARecordThroughJsonSchema() {
        OpenAiChatModel json = model(TestServer.BASE).maxTokens(200).supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA)
                .strictJsonSchema(true).build();
        Triager triager = AiServices.create(Triager.class, json);
        for (String ticket : List.of("My card was charged twice.", "Where is my refund?")) {
            Triage t = triager.triage(ticket);
            assertNotNull(t.intent(), ticket);
            assertNotNull(t.urgency(), ticket);
        }
    }

    @Test
    void streamingGivesTheSameTextAsBlocking() throws Exception {
        String blocking = model(TestServer.BASE).build().chat("Hello there");
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(TestServer.KEY)
                .modelName(TestServer.BASE).temperature(0.0).maxTokens(24).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat("Hello there", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertEquals(blocking, parts.toString());
        assertEquals(blocking, r.aiMessage().text());
    }

    @Test
    void stopSequencesAndAdaptersByModelName() {
        String full = model(TestServer.BASE).build().chat("Tell me a story.");
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        String cut = model(TestServer.BASE).stop(List.of(stop)).build().chat("Tell me a story.");
        assertEquals(full.substring(0, full.indexOf(stop)), cut);
        String tuned = model(TestServer.ADAPTER).build().chat("Tell me a story.");
        assertNotEquals(full, tuned);
    }

    @Test
    void errorsMapToLangChain4jsExceptions() {
        assertThrows(ModelNotFoundException.class, () -> model("nope").build().chat("Hi"));
        assertThrows(AuthenticationException.class, () -> OpenAiChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey("wrong")
                .modelName(TestServer.BASE).maxRetries(0).build().chat("Hi"));
        var e = assertThrows(InvalidRequestException.class, () -> model(TestServer.BASE).maxTokens(10_000).build().chat("Hi"));
        assertTrue(e.getMessage().contains("context_length_exceeded"), e.getMessage());
    }

    @Test
    void toolCallsRoundTripThroughLangChain4jsMessages() {
        ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("Weather in a city")
                .parameters(JsonObjectSchema.builder().addEnumProperty("city", List.of("Paris", "Rome")).required("city").additionalProperties(false).build())
                .build();
        OpenAiChatModel chat = model(TestServer.BASE).maxTokens(null).strictTools(true).parallelToolCalls(false).build();
        UserMessage question = UserMessage.from("Rain in Paris?");
        ChatResponse call = chat.chat(ChatRequest.builder().messages(question).toolSpecifications(weather).toolChoice(ToolChoice.REQUIRED).build());
        assertEquals(FinishReason.TOOL_EXECUTION, call.finishReason());
        List<ToolExecutionRequest> requests = call.aiMessage().toolExecutionRequests();
        assertEquals(1, requests.size());
        assertEquals("get_weather", requests.getFirst().name());
        assertTrue(requests.getFirst().arguments().matches("\\{\\s*\"city\"\\s*:\\s*\"(Paris|Rome)\"\\s*}"), requests.getFirst().arguments());
        ChatResponse answer = model(TestServer.BASE).build().chat(ChatRequest.builder()
                .messages(question, call.aiMessage(), ToolExecutionResultMessage.from(requests.getFirst(), "dry")).build());
        assertNotNull(answer.aiMessage().text(), "the call and its result were rendered back into the conversation");
    }
}
