package org.jtune.serve.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompletionRequestParserTest {
    static CompletionRequest chat(String json) throws ApiError {
        return CompletionRequestParser.parse(CompletionRequest.Kind.CHAT, CompletionRequestParser.readJson(json.getBytes(StandardCharsets.UTF_8)));
    }

    static CompletionRequest text(String json) throws ApiError {
        return CompletionRequestParser.parse(CompletionRequest.Kind.TEXT, CompletionRequestParser.readJson(json.getBytes(StandardCharsets.UTF_8)));
    }

    static ApiError chatError(String json) {
        return assertThrows(ApiError.class, () -> chat(json));
    }

    @Test
    void defaultsFollowOpenAi() throws ApiError {
        CompletionRequest r = chat("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(1f, r.temperature());
        assertEquals(1f, r.topP());
        assertNull(r.maxTokens());
        assertNull(r.seed());
        assertEquals(-1, r.topLogprobs());
        assertEquals(List.of(), r.stop());
    }

    @Test
    void bestOfIsNUnlessAsked() throws ApiError {
        assertEquals(3, text("{\"model\":\"m\",\"prompt\":\"x\",\"n\":3}").bestOf());
        CompletionRequest r = text("{\"model\":\"m\",\"prompt\":\"x\",\"n\":2,\"best_of\":5}");
        assertEquals(2, r.n());
        assertEquals(5, r.bestOf());
        assertEquals(2, text("{\"model\":\"m\",\"prompt\":\"x\",\"n\":2,\"best_of\":2,\"stream\":true}").bestOf(), "best_of = n streams");
    }

    @Test
    void contentPartsDeveloperRoleStopAndLimitsAreRead() throws ApiError {
        CompletionRequest r = chat("{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}],"
                + "\"max_tokens\":5,\"max_completion_tokens\":7,\"stop\":\"x\",\"seed\":-3,\"logprobs\":true,\"top_logprobs\":4,"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1,\"user\":\"ignored\"}");
        assertEquals("system", r.messages().get(0).role());
        assertEquals("ab", r.messages().get(1).content());
        assertEquals(7, r.maxTokens(), "max_completion_tokens wins over the deprecated max_tokens");
        assertEquals(List.of("x"), r.stop());
        assertEquals(-3L, r.seed());
        assertEquals(4, r.topLogprobs());
        assertTrue(r.includeUsage());
    }

    @Test
    void toolsToolChoiceAndToolMessagesAreReadAndChecked() throws ApiError {
        String tool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"city\":{\"type\":\"string\"}}}}}";
        String history = "\"messages\":[{\"role\":\"user\",\"content\":\"Paris?\"},{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"22 C\"}]";
        CompletionRequest r = chat("{\"model\":\"m\"," + history + ",\"tools\":[" + tool + "],\"tool_choice\":{\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\"}},\"parallel_tool_calls\":false}");
        assertEquals("get_weather", r.tools().choice().function());
        assertEquals(false, r.tools().parallel());
        assertNull(r.messages().get(1).content(), "an assistant message with only calls has no text");
        assertTrue(r.messages().get(1).fields().get("tool_calls") instanceof List<?>);
        assertEquals("call_1", r.messages().get(2).fields().get("tool_call_id"));
        assertNull(chat("{\"model\":\"m\"," + history + "}").tools(), "a conversation with calls needs no tools to be rendered");
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        assertEquals("tools", chatError("{\"model\":\"m\"," + msgs + ",\"tools\":[" + tool + "," + tool + "]}").param());
        assertEquals("tool_choice", chatError("{\"model\":\"m\"," + msgs + ",\"tools\":[" + tool + "],\"tool_choice\":\"sometimes\"}").param());
        assertEquals("tool_choice", chatError("{\"model\":\"m\"," + msgs + ",\"tool_choice\":\"required\"}").param());
        assertEquals("response_format", chatError("{\"model\":\"m\"," + msgs + ",\"tools\":[" + tool + "],\"response_format\":{\"type\":\"json_object\"}}").param());
        assertEquals("functions", chatError("{\"model\":\"m\"," + msgs + ",\"functions\":[{\"name\":\"f\"}]}").param());
        assertEquals("tools", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"tools\":[" + tool + "]}")).param());
        assertEquals("messages[0].tool_call_id", chatError("{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}").param());
        assertEquals("messages[0].tool_calls[0]", chatError("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\"}]}]}").param());
    }

    @Test
    void promptsAsTextOrTokenIds() throws ApiError {
        assertEquals(List.of("hi"), text("{\"model\":\"m\",\"prompt\":[\"hi\"]}").promptTexts());
        assertEquals(List.of("a", "b"), text("{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}").promptTexts());
        assertArrayEquals(new int[] {1, 2, 3}, text("{\"model\":\"m\",\"prompt\":[1,2,3]}").promptIds().getFirst());
        CompletionRequest two = text("{\"model\":\"m\",\"prompt\":[[1,2],[3]]}");
        assertEquals(2, two.prompts());
        assertArrayEquals(new int[] {3}, two.promptIds().get(1));
        assertEquals(2, text("{\"model\":\"m\",\"prompt\":\"x\",\"logprobs\":2}").topLogprobs());
        assertEquals("prompt", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":[\"a\",[1]]}")).param(), "mixed");
        assertEquals("prompt", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":[[1],[]]}")).param(), "an empty one");
        String many = "[" + String.join(",", java.util.Collections.nCopies(65, "\"p\"")) + "]";
        assertEquals("prompt", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":" + many + "}")).param(), "65 prompts");
        assertEquals("echo", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"echo\":true,\"stream\":true}")).param());
        assertEquals("max_tokens", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":0}")).param());
        assertEquals(0, text("{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":0,\"echo\":true}").maxTokens(), "echo alone scores the prompt");
        assertEquals("logprobs", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"logprobs\":6}")).param());
    }

    @Test
    void badParametersAre400sThatNameTheParameter() {
        String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        assertEquals("model", chatError("{" + msgs + "}").param());
        assertEquals("messages", chatError("{\"model\":\"m\",\"messages\":[]}").param());
        assertEquals("messages[0].role", chatError("{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}").param());
        assertEquals("temperature", chatError("{\"model\":\"m\"," + msgs + ",\"temperature\":-1}").param());
        assertEquals("temperature", chatError("{\"model\":\"m\"," + msgs + ",\"temperature\":\"hot\"}").param());
        assertEquals("top_p", chatError("{\"model\":\"m\"," + msgs + ",\"top_p\":0}").param());
        assertEquals("max_tokens", chatError("{\"model\":\"m\"," + msgs + ",\"max_tokens\":0}").param());
        assertEquals("max_tokens", chatError("{\"model\":\"m\"," + msgs + ",\"max_tokens\":1.5}").param());
        assertEquals("n", chatError("{\"model\":\"m\"," + msgs + ",\"n\":17}").param());
        assertEquals("best_of", chatError("{\"model\":\"m\"," + msgs + ",\"best_of\":2}").param());
        assertEquals("best_of", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"n\":3,\"best_of\":2}")).param());
        assertEquals("best_of", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"best_of\":17}")).param());
        assertEquals("best_of", assertThrows(ApiError.class, () -> text("{\"model\":\"m\",\"prompt\":\"x\",\"best_of\":2,\"stream\":true}")).param());
        String seventeen = "[" + String.join(",", java.util.Collections.nCopies(17, "\"s\"")) + "]";
        assertEquals("stop", chatError("{\"model\":\"m\"," + msgs + ",\"stop\":" + seventeen + "}").param());
        assertEquals("stop", chatError("{\"model\":\"m\"," + msgs + ",\"stop\":[\"\"]}").param());
        assertEquals("top_logprobs", chatError("{\"model\":\"m\"," + msgs + ",\"top_logprobs\":2}").param());
        assertEquals("top_logprobs", chatError("{\"model\":\"m\"," + msgs + ",\"logprobs\":true,\"top_logprobs\":21}").param());
        assertEquals("stream_options", chatError("{\"model\":\"m\"," + msgs + ",\"stream_options\":{\"include_usage\":true}}").param());
        assertEquals("tools", chatError("{\"model\":\"m\"," + msgs + ",\"tools\":[{\"type\":\"function\"}]}").param());
        assertEquals("presence_penalty", chatError("{\"model\":\"m\"," + msgs + ",\"presence_penalty\":2.5}").param());
        assertEquals("frequency_penalty", chatError("{\"model\":\"m\"," + msgs + ",\"frequency_penalty\":\"x\"}").param());
        assertEquals("logit_bias", chatError("{\"model\":\"m\"," + msgs + ",\"logit_bias\":{\"hello\":1}}").param());
        assertEquals("logit_bias", chatError("{\"model\":\"m\"," + msgs + ",\"logit_bias\":{\"12\":101}}").param());
        assertEquals("logit_bias", chatError("{\"model\":\"m\"," + msgs + ",\"logit_bias\":[1]}").param());
        assertEquals("response_format.type", chatError("{\"model\":\"m\"," + msgs + ",\"response_format\":{\"type\":\"xml\"}}").param());
        assertEquals("response_format.json_schema.schema",
                chatError("{\"model\":\"m\"," + msgs + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}}").param());
        assertEquals("seed", chatError("{\"model\":\"m\"," + msgs + ",\"seed\":\"x\"}").param());
        for (String bad : new String[] {"", "[1,2]", "{\"model\":", "null"}) {
            ApiError e = assertThrows(ApiError.class, () -> CompletionRequestParser.readJson(bad.getBytes(StandardCharsets.UTF_8)));
            assertEquals(400, e.status());
        }
    }
}
