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
import org.jtune.models.tools.TaggedToolSyntax;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistral's own tool syntax end to end: a tiny random Llama with Mistral-7B-Instruct-v0.3's tokenizer and chat template
 * (read from ../shared) served, and the OpenAI Java SDK as the client. The server picks the [TOOL_CALLS] syntax from the
 * template; calls come back with the 9-character ids Mistral's template insists on, so the conversation with the calls and
 * their results renders on the next request; a named function with parallel_tool_calls false gives one call of it; streamed
 * calls accumulate; in auto mode a model that does not open a call answers in text.
 */
class MistralToolCallingTest {
    @TempDir
    static Path tmp;
    static TinyToolServer tiny;
    static OpenAIClient client;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        tiny = TinyToolServer.start(tmp.resolve("mistral-tiny"), "mistral-tiny", SharedData.require("hf/mistral-7b-instruct-v0.3"),
                List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"), 32768, 1, 2, null, 7);
        assertEquals(TaggedToolSyntax.MISTRAL, tiny.codec.toolSyntax("mistral-tiny"));
        client = tiny.client;
    }

    @AfterAll
    static void stop() {
        if (tiny != null) tiny.close();
    }

    /** One call at a time: a random model asked for a list of calls may go on listing them (parallel lists: ToolSyntaxTest). */
    static ChatCompletionCreateParams.Builder ask() {
        return ChatCompletionCreateParams.builder().model("mistral-tiny").parallelToolCalls(false).addUserMessage("Rain in Paris?").addFunctionTool(ToolCallingTest.weather())
                .addFunctionTool(ToolCallingTest.time()).maxCompletionTokens(300).temperature(0.0);
    }

    static List<ChatCompletionMessageFunctionToolCall> calls(ChatCompletion.Choice choice) throws Exception {
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), () -> choice.message().content().orElse("-"));
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream().map(ChatCompletionMessageToolCall::asFunction).toList();
        assertFalse(calls.isEmpty());
        for (ChatCompletionMessageFunctionToolCall c : calls) {
            assertTrue(c.id().matches("[A-Za-z0-9]{9}"), c.id());
            JsonNode args = JSON.readTree(c.function().arguments());
            switch (c.function().name()) {
                case "get_weather" -> assertTrue(ToolCallingTest.CITIES.contains(args.path("city").asText()) && args.size() == 1, args.toString());
                case "get_time" -> assertTrue(ToolCallingTest.ZONES.contains(args.path("zone").asText()), args.toString());
                default -> throw new AssertionError(c.function().name());
            }
        }
        return calls;
    }

    @Test
    void requiredCallsGoBackIntoTheConversationWithTheirResults() throws Exception {
        ChatCompletion first = client.chat().completions().create(ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        ChatCompletionCreateParams.Builder next = ask().addMessage(first.choices().getFirst().message());
        for (ChatCompletionMessageFunctionToolCall call : calls(first.choices().getFirst())) {
            next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("dry").build());
        }
        ChatCompletion answer = client.chat().completions().create(next.toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).maxCompletionTokens(20).build());
        assertTrue(answer.choices().getFirst().message().content().isPresent(), "the template rendered the calls and results");
        ChatCompletion auto = client.chat().completions().create(next.toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO).maxCompletionTokens(300).build());
        ChatCompletion.Choice decided = auto.choices().getFirst();
        boolean called = decided.message().toolCalls().map(l -> !l.isEmpty()).orElse(false);
        String seen = decided.finishReason() + ", content " + decided.message().content().orElse("(none)") + ", calls " + decided.message().toolCalls();
        if (decided.finishReason() == ChatCompletion.Choice.FinishReason.TOOL_CALLS) calls(decided);
        else if (called) assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, decided.finishReason(), "complete calls end in tool_calls unless cut: " + seen);
        else assertTrue(decided.message().content().isPresent(), "auto without calls answers in text: " + seen);
    }

    @Test
    void aNamedFunctionWithoutParallelCallsIsOneCallOfIt() throws Exception {
        ChatCompletion c = client.chat().completions().create(ask()
                .toolChoice(ChatCompletionNamedToolChoice.builder().function(ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build())
                .build());
        List<ChatCompletionMessageFunctionToolCall> calls = calls(c.choices().getFirst());
        assertEquals(1, calls.size());
        assertEquals("get_time", calls.getFirst().function().name());
    }

    @Test
    void streamedCallsAccumulate() throws Exception {
        calls(ToolCallingTest.streamed(client, ask().toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build()).choices().getFirst());
    }

    @Test
    void inAutoModeAModelThatOpensNoCallAnswersInText() {
        ChatCompletion c = client.chat().completions().create(ask().maxCompletionTokens(12).build());
        ChatCompletion.Choice choice = c.choices().getFirst();
        if (choice.finishReason() == ChatCompletion.Choice.FinishReason.TOOL_CALLS) return; // the random model opened one: checked elsewhere
        assertTrue(choice.message().toolCalls().map(List::isEmpty).orElse(true));
        assertTrue(choice.message().content().isPresent());
    }
}
