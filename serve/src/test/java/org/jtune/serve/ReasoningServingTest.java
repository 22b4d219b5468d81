package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.models.arch.Architectures;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.tokenizer.ByteLevelAlphabet;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.EngineRejection;
import org.jtune.serve.engine.FinishReason;
import org.jtune.serve.engine.GeneratedToken;
import org.jtune.serve.engine.GenerationRequest;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.engine.Submission;
import org.jtune.serve.engine.TokenSink;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.text.PromptCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thinking model served: a tiny random Llama whose byte-level vocabulary has &lt;think&gt; and &lt;/think&gt; as tokens
 * (as Qwen3's has), behind a Qwen3-style template that honours {@code enable_thinking} and, for a DeepSeek-R1-style
 * prompt, leaves &lt;think&gt; open. The real engine runs; a wrapper puts a scripted answer in place of the random model's
 * ids, so the text is known. Whole answers carry the thought as "reasoning" and "reasoning_content" and the answer as
 * content; streamed ones in reasoning deltas, then content deltas, tags never shown; chat_template_kwargs reaches the
 * template; a thought cut short by max_tokens stays reasoning; the OpenAI Java SDK reads both fields; with
 * {@code --reasoning-format none} the raw text is the content.
 */
class ReasoningServingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();
    private static final String TEMPLATE = "{%- if tools %}<|im_start|>system\n<tools>{{ tools | tojson }}</tools>\nCall as "
            + "<tool_call>{\\\"name\\\": ..., \\\"arguments\\\": ...}</tool_call><|im_end|>\n{%- endif %}"
            + "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor %}"
            + "{%- if add_generation_prompt %}<|im_start|>assistant\n"
            + "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
            + "{% if open_thought is defined and open_thought %}<think>\n{% endif %}{%- endif %}";
    private static final String SCRIPT = "<think>\nThe user says hi.\n</think>\n\nHello there.";

    @TempDir
    static Path tmp;
    static OpenAiServer server, raw;
    static Engine engine;
    static Tokenizer tokenizer;
    static volatile String script = SCRIPT;

    @BeforeAll
    static void start() throws Exception {
        Path dir = tmp.resolve("thinker");
        writeModel(dir);
        tokenizer = Tokenizer.load(dir);
        ServedModels models = ServedModels.load(dir, "thinker", Map.of());
        engine = new Scripted(BatchingEngine.start(models, new BatchingEngine.Options(4, 16)));
        PromptCodec codec = PromptCodec.of(tokenizer, org.jtune.models.chat.ChatTemplate.load(dir), models.model().config());
        assertTrue(codec.thinks(), "<think> and </think> are single tokens decoding keeps");
        server = OpenAiServer.start(engine, codec, null, ServerOptions.defaults().withPort(0).withApiKey(TestServer.KEY));
        raw = OpenAiServer.start(engine, codec, null, ServerOptions.defaults().withPort(0).withApiKey(TestServer.KEY).withReasoning(false));
    }

    @AfterAll
    static void stop() {
        if (raw != null) raw.close();
        if (server != null) server.close();
        if (engine != null) engine.close();
    }

    @Test
    void aWholeAnswerCarriesItsThoughtApart() throws Exception {
        JsonNode message = post(server, body(false, null, 64)).get("choices").get(0).get("message");
        assertEquals("Hello there.", message.get("content").asText());
        assertEquals("\nThe user says hi.\n", message.get("reasoning").asText());
        assertEquals("\nThe user says hi.\n", message.get("reasoning_content").asText());
    }

    @Test
    void aStreamedAnswerSendsTheThoughtFirstAndNeverATag() throws Exception {
        var response = HTTP.send(request(server, body(true, null, 64)), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        boolean contentStarted = false;
        for (String line : response.body().split("\n")) {
            if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
            JsonNode delta = JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
            if (delta.has("reasoning")) {
                assertFalse(contentStarted, "reasoning after content: " + response.body());
                assertEquals(delta.get("reasoning"), delta.get("reasoning_content"));
                reasoning.append(delta.get("reasoning").asText());
            }
            if (delta.hasNonNull("content")) {
                contentStarted |= !delta.get("content").asText().isEmpty();
                content.append(delta.get("content").asText());
            }
        }
        assertEquals("\nThe user says hi.\n", reasoning.toString());
        assertEquals("Hello there.", content.toString());
    }

    @Test
    void chatTemplateKwargsReachTheTemplate() throws Exception {
        script = "Hello there.";
        try {
            JsonNode off = post(server, body(false, Map.of("enable_thinking", false), 64));
            JsonNode message = off.get("choices").get(0).get("message");
            assertEquals("Hello there.", message.get("content").asText());
            assertFalse(message.has("reasoning"), "no thought: no reasoning field");
            int closed = tokenizer.encode("<think>\n\n</think>\n\n", false).length;
            JsonNode on = post(server, body(false, null, 64));
            assertEquals(on.get("usage").get("prompt_tokens").asInt() + closed, off.get("usage").get("prompt_tokens").asInt(),
                    "enable_thinking false renders the empty thought into the prompt");
        } finally {
            script = SCRIPT;
        }
    }

    @Test
    void templateKwargsTheServerSetsAreRefused() throws Exception {
        String body = body(false, Map.of("add_generation_prompt", false), 8);
        var response = HTTP.send(request(server, body), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, response.statusCode());
        assertEquals("chat_template_kwargs.add_generation_prompt", JSON.readTree(response.body()).get("error").get("param").asText());
    }

    @Test
    void aPromptThatOpensTheThoughtStartsTheAnswerInsideIt() throws Exception {
        script = "I weigh it.\n</think>\nHi!";
        try {
            JsonNode message = post(server, body(false, Map.of("open_thought", true), 64)).get("choices").get(0).get("message");
            assertEquals("I weigh it.\n", message.get("reasoning").asText());
            assertEquals("Hi!", message.get("content").asText());
        } finally {
            script = SCRIPT;
        }
    }

    @Test
    void aThoughtSentBackReachesTheTemplate() throws Exception {
        // the template of this test does not render it; the tokenizer endpoint shows what the template was given
        ObjectNode b = JSON.createObjectNode().put("model", "thinker");
        ArrayNode ms = b.putArray("messages");
        ms.addObject().put("role", "user").put("content", "hi");
        ms.addObject().put("role", "assistant").put("content", "Hello there.").put("reasoning", "The user says hi.");
        ms.addObject().put("role", "user").put("content", "again");
        var parsed = org.jtune.serve.api.CompletionRequestParser.messages(b);
        assertEquals("The user says hi.", parsed.get(1).fields().get("reasoning_content"), "vLLM's name, as Qwen3's template reads it");
        assertFalse(parsed.get(0).fields().containsKey("reasoning_content"));
    }

    @Test
    void aThoughtThenAToolCall() throws Exception {
        // Qwen3 with tools: it thinks, then calls; the thought is reasoning, the call a tool call, no content is left
        script = "<think>\nI need the weather.\n</think>\n\n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
        try {
            ObjectNode b = (ObjectNode) JSON.readTree(body(false, null, 96));
            b.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "weather")
                    .putObject("parameters").put("type", "object").putObject("properties").putObject("city").put("type", "string");
            for (boolean stream : new boolean[] {false, true}) {
                b.put("stream", stream);
                String reasoning, name, arguments, finish;
                if (!stream) {
                    JsonNode choice = post(server, JSON.writeValueAsString(b)).get("choices").get(0);
                    reasoning = choice.get("message").get("reasoning").asText();
                    JsonNode call = choice.get("message").get("tool_calls").get(0).get("function");
                    name = call.get("name").asText();
                    arguments = call.get("arguments").asText();
                    finish = choice.get("finish_reason").asText();
                    assertTrue(choice.get("message").get("content").isNull() || choice.get("message").get("content").asText().isBlank(), choice.toString());
                } else {
                    var response = HTTP.send(request(server, JSON.writeValueAsString(b)), java.net.http.HttpResponse.BodyHandlers.ofString());
                    StringBuilder r = new StringBuilder();
                    name = arguments = finish = null;
                    for (String line : response.body().split("\n")) {
                        if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                        JsonNode choice = JSON.readTree(line.substring(6)).get("choices").get(0);
                        JsonNode delta = choice.get("delta");
                        if (delta.has("reasoning")) r.append(delta.get("reasoning").asText());
                        if (delta.has("tool_calls")) {
                            name = delta.get("tool_calls").get(0).get("function").get("name").asText();
                            arguments = delta.get("tool_calls").get(0).get("function").get("arguments").asText();
                        }
                        assertFalse(delta.hasNonNull("content") && delta.get("content").asText().contains("tool_call"), line);
                        if (choice.hasNonNull("finish_reason")) finish = choice.get("finish_reason").asText();
                    }
                    reasoning = r.toString();
                }
                assertEquals("\nI need the weather.\n", reasoning, "stream " + stream);
                assertEquals("weather", name);
                assertEquals("Paris", JSON.readTree(arguments).get("city").asText());
                assertEquals("tool_calls", finish);
            }
        } finally {
            script = SCRIPT;
        }
    }

    @Test
    void aThoughtCutShortStaysReasoning() throws Exception {
        int tokens = tokenizer.encode("<think>\nThe user", false).length;
        JsonNode choice = post(server, body(false, null, tokens)).get("choices").get(0);
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals("\nThe user", choice.get("message").get("reasoning").asText());
        assertTrue(choice.get("message").get("content").isNull(), choice.toString());
    }

    @Test
    void theOpenAiSdkReadsTheReasoning() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(TestServer.KEY)
                .maxRetries(0).build();
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("thinker").addUserMessage("hi")
                .maxCompletionTokens(64).temperature(0.0).logitBias(noEnd()).build());
        var message = c.choices().getFirst().message();
        assertEquals("Hello there.", message.content().orElseThrow());
        assertEquals(JsonValue.from("\nThe user says hi.\n"), message._additionalProperties().get("reasoning_content"));
    }

    @Test
    void reasoningFormatNoneLeavesTheRawText() throws Exception {
        JsonNode message = post(raw, body(false, null, 64)).get("choices").get(0).get("message");
        assertEquals(SCRIPT, message.get("content").asText());
        assertFalse(message.has("reasoning"));
    }

    /** logit_bias −100 on the end-of-turn token, so the random model does not end before the script does. */
    private static ChatCompletionCreateParams.LogitBias noEnd() {
        return ChatCompletionCreateParams.LogitBias.builder().putAdditionalProperty(String.valueOf(tokenizer.idOf("<|im_end|>").getAsInt()),
                JsonValue.from(-100)).build();
    }

    private static String body(boolean stream, Map<String, Object> kwargs, int maxTokens) throws Exception {
        ObjectNode b = JSON.createObjectNode().put("model", "thinker").put("max_tokens", maxTokens).put("temperature", 0).put("stream", stream);
        b.putArray("messages").addObject().put("role", "user").put("content", "hi");
        b.putObject("logit_bias").put(String.valueOf(tokenizer.idOf("<|im_end|>").getAsInt()), -100);
        if (kwargs != null) b.set("chat_template_kwargs", JSON.valueToTree(kwargs));
        return JSON.writeValueAsString(b);
    }

    private static java.net.http.HttpRequest request(OpenAiServer s, String body) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + TestServer.KEY).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static JsonNode post(OpenAiServer s, String body) throws Exception {
        var response = HTTP.send(request(s, body), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    /** A tiny random Llama with a byte-level tokenizer: 256 bytes, ChatML's two special tokens, and &lt;think&gt;, &lt;/think&gt;. */
    private static void writeModel(Path dir) throws Exception {
        Files.createDirectories(dir);
        List<String[]> added = List.of(new String[] {"<|im_start|>", "true"}, new String[] {"<|im_end|>", "true"},
                new String[] {"<think>", "false"}, new String[] {"</think>", "false"}, new String[] {"<tool_call>", "false"},
                new String[] {"</tool_call>", "false"});
        LlamaConfig config = LlamaConfig.builder().architecture(LlamaConfig.LLAMA).modelType("llama").hiddenSize(32).intermediateSize(48)
                .numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(8).ropeTheta(10000).rmsNormEps(1e-5)
                .tieWordEmbeddings(false).maxPositionEmbeddings(1024).vocabSize(256 + added.size()).bosTokenIds(List.of())
                .eosTokenIds(List.of(257)).torchDtype("float32").build();
        config.write(dir.resolve("config.json"));
        SafetensorsWriter.defaults().writeModel(dir, Architectures.randomWeights(config, new org.jtune.tensor.Rng(5), 0.3f));
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        ArrayNode addedTokens = root.putArray("added_tokens");
        ObjectNode vocab = JSON.createObjectNode();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevelAlphabet.charOf(b)), b);
        for (int i = 0; i < added.size(); i++) {
            addedTokens.addObject().put("id", 256 + i).put("content", added.get(i)[0]).put("special", Boolean.parseBoolean(added.get(i)[1]))
                    .put("normalized", false);
            vocab.put(added.get(i)[0], 256 + i);
        }
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.set("vocab", vocab);
        model.putArray("merges");
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(Map.of("eos_token", "<|im_end|>", "chat_template", TEMPLATE)));
    }

    /** The real engine, its tokens replaced by the script's ids (logprobs kept); the script's end is a stop. */
    private static final class Scripted extends ForwardingEngine {
        Scripted(Engine inner) {
            super(inner);
        }

        @Override
        public Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection {
            int[] ids = tokenizer.encode(script, false);
            return inner.submit(request, new TokenSink() {
                int next;
                boolean done;

                @Override
                public synchronized void onToken(GeneratedToken t) {
                    if (done) return;
                    sink.onToken(new GeneratedToken(ids[next++], t.logprob(), t.topIds(), t.topLogprobs(), t.nanoTime()));
                    if (next == ids.length) {
                        done = true;
                        sink.onFinish(FinishReason.STOP, request.promptIds().length, next, null);
                    }
                }

                @Override
                public synchronized void onFinish(FinishReason reason, int promptTokens, int completionTokens, String error) {
                    if (done) return;
                    done = true;
                    sink.onFinish(reason, promptTokens, completionTokens, error);
                }
            });
        }
    }
}
