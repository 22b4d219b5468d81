package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.nio.file.Path;
import java.util.List;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Llama 3.1's JSON calls end to end: a tiny random Llama with the Llama 3 vocabulary (tiktoken, from ../shared) and the
 * built-in llama3 template served, the OpenAI Java SDK as the client. A forced call is one call of an offered tool (even
 * with parallel_tool_calls), its id the server's own; the call and its result render on the next request (one assistant
 * turn, one ipython turn); streamed calls accumulate; in auto mode a model whose first word is not '{' answers in text.
 */
class Llama3ToolCallingTest {
    @TempDir
    static Path tmp;
    static TinyToolServer tiny;
    static OpenAIClient client;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        tiny = TinyToolServer.start(tmp.resolve("llama3-tiny"), "llama3-tiny", SharedData.require("hf/llama-3-tiktoken"), List.of("tokenizer.model"),
                128256, 128000, 128009, ChatTemplate.named("llama3"), 11);
        assertEquals("llama3", tiny.codec.toolSyntax("llama3-tiny").name());
        client = tiny.client;
    }

    @AfterAll
    static void stop() {
        if (tiny != null) tiny.close();
    }

    static ChatCompletionCreateParams.Builder ask() {
        return ChatCompletionCreateParams.builder().model("llama3-tiny").addUserMessage("Rain in Paris?").addFunctionTool(ToolCallingTest.weather())
                .addFunctionTool(ToolCallingTest.time()).maxCompletionTokens(200).temperature(0.0);
    }

    static ChatCompletionMessageFunctionToolCall call(ChatCompletion.Choice choice) throws Exception {
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), () -> choice.message().content().orElse("-"));
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream().map(ChatCompletionMessageToolCall::asFunction).toList();
        assertEquals(1, calls.size(), "Llama 3.1 calls once per answer");
        ChatCompletionMessageFunctionToolCall c = calls.getFirst();
        assertTrue(c.id().matches("call_[A-Za-z0-9]{24}"), c.id());
        JsonNode args = JSON.readTree(c.function().arguments());
        switch (c.function().name()) {
            case "get_weather" -> assertTrue(ToolCallingTest.CITIES.contains(args.path("city").asText()) && args.size() == 1, args.toString());
            case "get_time" -> assertTrue(ToolCallingTest.ZONES.contains(args.path("zone").asText()), args.toString());
            default -> throw new AssertionError(c.function().name());
        }
        assertTrue(choice.message().content().orElse("").isEmpty(), "a call alone");
        return c;
    }

    @Test
    void aRequiredCallGoesBackIntoTheConversationWithItsResult() throws Exception {
        ChatCompletion first = client.chat().completions().create(ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        ChatCompletionMessageFunctionToolCall c = call(first.choices().getFirst());
        ChatCompletionCreateParams.Builder next = ask().addMessage(first.choices().getFirst().message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(c.id()).content("dry").build());
        ChatCompletion answer = client.chat().completions().create(next.toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).maxCompletionTokens(8).build());
        assertTrue(answer.choices().getFirst().message().content().isPresent(), "the template rendered the call and its result");
        ChatCompletion without = client.chat().completions().create(ask().toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).maxCompletionTokens(1).build());
        assertTrue(answer.usage().orElseThrow().promptTokens() > without.usage().orElseThrow().promptTokens() + 20, "the call and its result are in the prompt");
    }

    @Test
    void aNamedFunctionIsOneCallOfIt() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask()
                .toolChoice(ChatCompletionNamedToolChoice.builder().function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build())
                .build());
        assertEquals("get_time", call(c.choices().getFirst()).function().name());
    }

    @Test
    void aStreamedCallAccumulates() throws Exception {
        call(ToolCallingTest.streamed(client, ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()).choices().getFirst());
    }

    @Test
    void inAutoModeAnAnswerThatDoesNotOpenWithABraceIsText() {
        ChatCompletion c = client.chat().completions().create(ask().maxCompletionTokens(6).build());
        ChatCompletion.Choice choice = c.choices().getFirst();
        if (choice.finishReason() == ChatCompletion.Choice.FinishReason.TOOL_CALLS) return; // the random model opened one: checked above
        assertTrue(choice.message().toolCalls().map(List::isEmpty).orElse(true));
        assertFalse(choice.message().content().orElse("").isEmpty());
    }
}
