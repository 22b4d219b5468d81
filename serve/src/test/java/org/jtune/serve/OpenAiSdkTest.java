package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.OpenAiPenalties;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI Java SDK against `jtune serve` on stories260K: plain, streamed, stop strings,
 * usage, logprobs, seeds, n choices, presence and frequency penalties and logit bias, the adapter by model name, and the error statuses. Answers are checked
 * against {@link Generator} run directly on the same weights.
 */
class OpenAiSdkTest {
    @TempDir
    static Path tmp;
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(tmp);
        client = client(TestServer.KEY);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey(key).maxRetries(0).build();
    }

    /** Greedy text of the model (with the adapter when given), straight from Generator. */
    static String reference(Path adapter, int[] prompt, int maxNew) throws Exception {
        return reference(adapter, prompt, maxNew, server);
    }

    static String reference(Path adapter, int[] prompt, int maxNew, TestServer server) throws Exception {
        try (CausalLM m = Architectures.load(server.modelDir)) {
            if (adapter != null) PeftFormat.load(adapter, m);
            var sampling = SamplingConfig.greedy(maxNew).withStopIds(server.codec.stopIds());
            return Generator.generate(m, List.of(prompt), sampling, server.codec::decode, null).getFirst().text();
        }
    }

    static ChatCompletionCreateParams.Builder chat(String model, String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(user).maxCompletionTokens(maxTokens).temperature(0.0);
    }

    @Test
    void modelsListTheBaseAndTheAdapter() {
        List<String> ids = client.models().list().data().stream().map(m -> m.id()).toList();
        assertEquals(List.of(TestServer.BASE, TestServer.ADAPTER), ids);
        assertEquals(TestServer.ADAPTER, client.models().retrieve(TestServer.ADAPTER).id());
    }

    @Test
    void penaltiesAndLogitBiasGiveGeneratorsAnswerWithTheSameProcessor() throws Exception {
        String prompt = "Once upon a time";
        int[] ids = server.codec.text(prompt).ids();
        int lily = server.codec.tokenizer().idOf("▁Lily").orElseThrow();
        OpenAiPenalties penalties = new OpenAiPenalties(0.5f, 1.5f, java.util.Map.of(lily, 5f));
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt(prompt).maxTokens(40L)
                .temperature(0.0).presencePenalty(0.5).frequencyPenalty(1.5)
                .logitBias(CompletionCreateParams.LogitBias.builder().putAdditionalProperty(String.valueOf(lily), JsonValue.from(5)).build())
                .build());
        String expected;
        try (CausalLM m = Architectures.load(server.modelDir)) {
            var sampling = SamplingConfig.greedy(40).withStopIds(server.codec.stopIds()).withProcessor(penalties);
            expected = Generator.generate(m, List.of(ids), sampling, server.codec::decode, null).getFirst().text();
        }
        assertEquals(expected, c.choices().getFirst().text());
        assertNotEquals(reference(null, ids, 40), expected, "the penalties change the greedy answer");
        var beyond = assertThrows(BadRequestException.class, () -> client.completions().create(CompletionCreateParams.builder()
                .model(TestServer.BASE).prompt(prompt).maxTokens(5L)
                .logitBias(CompletionCreateParams.LogitBias.builder().putAdditionalProperty("999999", JsonValue.from(1)).build()).build()));
        assertEquals("logit_bias", beyond.param().orElseThrow());
    }

    @Test
    void nChoicesAreTheSampledAnswersOfSeedsSeedPlusIWholeAndStreamed() throws Exception {
        String prompt = "Once upon a time";
        int[] ids = server.codec.text(prompt).ids();
        List<String> expected = new ArrayList<>();
        try (CausalLM m = Architectures.load(server.modelDir)) {
            for (int i = 0; i < 3; i++) {
                var sampling = SamplingConfig.greedy(30).withStopIds(server.codec.stopIds()).withTemperature(0.9f).withTopP(0.95f).withSeed(11 + i);
                expected.add(Generator.generate(m, List.of(ids), sampling, server.codec::decode, null).getFirst().text());
            }
        }
        assertNotEquals(expected.get(0), expected.get(1), "different seeds sample different answers");
        CompletionCreateParams params = CompletionCreateParams.builder().model(TestServer.BASE).prompt(prompt).maxTokens(30L)
                .temperature(0.9).topP(0.95).seed(11L).n(3L).build();
        Completion c = client.completions().create(params);
        assertEquals(3, c.choices().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, c.choices().get(i).index());
            assertEquals(expected.get(i), c.choices().get(i).text(), "choice " + i);
        }
        assertEquals(90, c.usage().orElseThrow().completionTokens(), "usage counts every choice");
        String[] streamed = {"", "", ""};
        int[] finishes = new int[3];
        try (var s = client.completions().createStreaming(params)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                streamed[(int) ch.index()] += ch.text();
                if (ch._finishReason().asKnown().isPresent()) finishes[(int) ch.index()]++;
            }));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(expected.get(i), streamed[i], "streamed choice " + i);
            assertEquals(1, finishes[i], "one finish reason per choice");
        }
        // chat, streamed, greedy: every choice is the greedy answer, each with its role chunk and its finish
        ChatCompletionCreateParams greedy = chat(TestServer.BASE, "Tell me a story.", 20).n(2L).build();
        String[] chatText = {"", ""};
        int[] roles = new int[2];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(greedy)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().content().ifPresent(t -> chatText[(int) ch.index()] += t);
                if (ch.delta().role().isPresent()) roles[(int) ch.index()]++;
            }));
        }
        String whole = client.chat().completions().create(greedy).choices().get(1).message().content().orElseThrow();
        assertEquals(whole, chatText[0]);
        assertEquals(whole, chatText[1]);
        assertEquals(1, roles[0]);
        assertEquals(1, roles[1]);
    }

    @Test
    void textCompletionIsGeneratorsGreedyAnswerForBaseAndAdapter() throws Exception {
        String prompt = "Once upon a time";
        int[] ids = server.codec.text(prompt).ids();
        for (String model : List.of(TestServer.BASE, TestServer.ADAPTER)) {
            Completion c = client.completions().create(CompletionCreateParams.builder().model(model).prompt(prompt).maxTokens(40L)
                    .temperature(0.0).build());
            String expected = reference(model.equals(TestServer.BASE) ? null : server.adapterDir, ids, 40);
            assertEquals(expected, c.choices().getFirst().text(), model);
            assertEquals(model, c.model());
            assertEquals("fp_test", c.systemFingerprint().orElseThrow());
            CompletionUsage u = c.usage().orElseThrow();
            assertEquals(ids.length, u.promptTokens());
            assertEquals(40, u.completionTokens());
            assertEquals("length", c.choices().getFirst().finishReason().asString());
        }
        String base = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt(prompt).maxTokens(20L)
                .temperature(0.0).build()).choices().getFirst().text();
        String tuned = client.completions().create(CompletionCreateParams.builder().model(TestServer.ADAPTER).prompt(prompt).maxTokens(20L)
                .temperature(0.0).build()).choices().getFirst().text();
        assertNotEquals(base, tuned, "the adapter answers differently");
    }

    @Test
    void concurrentRequestsForTheBaseAndTheAdapterShareBatchesAndKeepTheirAnswers() throws Exception {
        String prompt = "Once upon a time";
        int[] ids = server.codec.text(prompt).ids();
        String base = reference(null, ids, 24), tuned = reference(server.adapterDir, ids, 24);
        List<java.util.concurrent.CompletableFuture<String>> answers = new ArrayList<>();
        List<String> models = List.of(TestServer.BASE, TestServer.ADAPTER, TestServer.ADAPTER, TestServer.BASE, TestServer.ADAPTER, TestServer.BASE);
        for (String model : models) {
            answers.add(client.async().completions().create(CompletionCreateParams.builder().model(model).prompt(prompt).maxTokens(24L)
                    .temperature(0.0).build()).thenApply(c -> c.choices().getFirst().text()));
        }
        for (int i = 0; i < models.size(); i++) {
            assertEquals(models.get(i).equals(TestServer.BASE) ? base : tuned, answers.get(i).get(), "request " + i + " (" + models.get(i) + ")");
        }
    }

    @Test
    void chatPlainAndStreamedAgreeAndReportUsage() throws Exception {
        ChatCompletion whole = client.chat().completions().create(chat(TestServer.BASE, "Tell me a story.", 30).build());
        String text = whole.choices().getFirst().message().content().orElseThrow();
        int[] promptIds = server.codec.chat(TestServer.BASE, List.of(Message.user("Tell me a story."))).ids();
        assertEquals(reference(null, promptIds, 30), text);
        assertEquals(promptIds.length, whole.usage().orElseThrow().promptTokens());
        assertEquals(30, whole.usage().orElseThrow().completionTokens());
        assertEquals(promptIds.length + 30, whole.usage().orElseThrow().totalTokens());
        assertTrue(whole.id().startsWith("chatcmpl-"));

        StringBuilder streamed = new StringBuilder();
        AtomicReference<CompletionUsage> usage = new AtomicReference<>();
        List<String> finish = new ArrayList<>();
        var params = chat(TestServer.BASE, "Tell me a story.", 30)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usage::set);
                for (var c : chunk.choices()) {
                    c.delta().content().ifPresent(streamed::append);
                    c.finishReason().ifPresent(f -> finish.add(f.asString()));
                }
            });
        }
        assertEquals(text, streamed.toString());
        assertEquals(List.of("length"), finish);
        assertEquals(30, usage.get().completionTokens());
        assertEquals(promptIds.length, usage.get().promptTokens());
    }

    @Test
    void stopStringsEndTheAnswerBeforeThemWhetherStreamedOrNot() {
        String full = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("Once upon a time")
                .maxTokens(60L).temperature(0.0).build()).choices().getFirst().text();
        // a stop string from the middle of the greedy answer: the answer must end right before it
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        String expected = full.substring(0, full.indexOf(stop));
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("Once upon a time")
                .maxTokens(60L).temperature(0.0).stopOfStrings(List.of("zzzz", stop)).build());
        assertEquals(expected, c.choices().getFirst().text());
        assertEquals("stop", c.choices().getFirst().finishReason().asString());
        assertTrue(c.usage().orElseThrow().completionTokens() < 60);

        StringBuilder streamed = new StringBuilder();
        List<String> finish = new ArrayList<>();
        var params = CompletionCreateParams.builder().model(TestServer.BASE).prompt("Once upon a time").maxTokens(60L).temperature(0.0)
                .stop(stop).build();
        try (var s = client.completions().createStreaming(params)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                streamed.append(ch.text());
                ch._finishReason().asKnown().ifPresent(f -> finish.add(f.asString()));
            }));
        }
        assertEquals(expected, streamed.toString());
        assertEquals(List.of("stop"), finish);
    }

    @Test
    void logprobsAreLogSoftmaxOfTheModelWithTheirTopAlternatives() {
        ChatCompletion c = client.chat().completions().create(chat(TestServer.BASE, "Hello", 12).logprobs(true).topLogprobs(3L).build());
        List<ChatCompletionTokenLogprob> lp = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertEquals(12, lp.size());
        StringBuilder joined = new StringBuilder();
        for (ChatCompletionTokenLogprob t : lp) {
            assertEquals(3, t.topLogprobs().size());
            assertTrue(t.logprob() <= 0);
            // greedy: the chosen token is the most likely one
            assertEquals(t.topLogprobs().getFirst().logprob(), t.logprob(), 1e-9);
            assertEquals(t.topLogprobs().getFirst().token(), t.token());
            for (int i = 1; i < 3; i++) assertTrue(t.topLogprobs().get(i).logprob() <= t.topLogprobs().get(i - 1).logprob());
            double mass = 0;
            for (var top : t.topLogprobs()) mass += Math.exp(top.logprob());
            assertTrue(mass <= 1 + 1e-9, "probabilities of distinct tokens sum to at most 1");
            joined.append(t.token());
        }
        assertFalse(joined.isEmpty());

        Completion t = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("Once upon a time")
                .maxTokens(8L).temperature(0.0).logprobs(2L).build());
        var legacy = t.choices().getFirst().logprobs().orElseThrow();
        assertEquals(8, legacy.tokens().orElseThrow().size());
        assertEquals(8, legacy.tokenLogprobs().orElseThrow().size());
        assertEquals(8, legacy.textOffset().orElseThrow().size());
        assertEquals(0L, legacy.textOffset().orElseThrow().getFirst());
    }

    @Test
    void severalPromptsAreAnsweredPromptByPromptEachWithItsNChoices() {
        List<String> prompts = List.of("Once upon a time", "The little dog");
        java.util.function.Supplier<CompletionCreateParams.Builder> ask = () -> CompletionCreateParams.builder().model(TestServer.BASE)
                .maxTokens(10L).temperature(0.8).seed(5L).n(2L);
        Completion both = client.completions().create(ask.get().prompt(CompletionCreateParams.Prompt.ofArrayOfStrings(prompts)).build());
        assertEquals(4, both.choices().size());
        int tokens = 0;
        for (int p = 0; p < 2; p++) {
            Completion alone = client.completions().create(ask.get().prompt(prompts.get(p)).build());
            tokens += (int) alone.usage().orElseThrow().completionTokens();
            for (int i = 0; i < 2; i++) {
                assertEquals(2 * p + i, both.choices().get(2 * p + i).index());
                assertEquals(alone.choices().get(i).text(), both.choices().get(2 * p + i).text(), "prompt " + p + ", choice " + i);
            }
        }
        assertEquals(tokens, both.usage().orElseThrow().completionTokens());
        int[][] ids = {server.codec.text(prompts.get(0)).ids(), server.codec.text(prompts.get(1)).ids()};
        assertEquals(ids[0].length + ids[1].length, both.usage().orElseThrow().promptTokens());
        String[] streamed = {"", "", "", ""};
        try (var s = client.completions().createStreaming(ask.get().prompt(CompletionCreateParams.Prompt.ofArrayOfStrings(prompts)).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed[(int) ch.index()] += ch.text()));
        }
        for (int i = 0; i < 4; i++) assertEquals(both.choices().get(i).text(), streamed[i], "streamed choice " + i);
        Completion best = client.completions().create(ask.get().n(1L).bestOf(3L).prompt(CompletionCreateParams.Prompt.ofArrayOfStrings(prompts)).build());
        assertEquals(2, best.choices().size(), "best_of picks per prompt");
        assertTrue(best.choices().get(1).text().length() > 0);
    }

    @Test
    void bestOfAnswersTheCandidatesWithTheHighestLogprobPerToken() {
        // the same four candidates (seeds 11..14) with their logprobs; 12 tokens, so none ends early and each mean is over
        // the tokens shown
        java.util.function.Supplier<CompletionCreateParams.Builder> ask = () -> CompletionCreateParams.builder().model(TestServer.BASE)
                .prompt("Once upon a time").maxTokens(12L).temperature(1.0).seed(11L);
        Completion all = client.completions().create(ask.get().n(4L).logprobs(0L).build());
        List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3));
        double[] mean = new double[4];
        for (int i = 0; i < 4; i++) {
            var choice = all.choices().get(i);
            assertEquals("length", choice.finishReason().asString(), "candidate " + i);
            mean[i] = choice.logprobs().orElseThrow().tokenLogprobs().orElseThrow().stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        }
        order.sort((a, b) -> Double.compare(mean[b], mean[a]));
        assertNotEquals(mean[order.get(0)], mean[order.get(3)], "the candidates differ");
        Completion best = client.completions().create(ask.get().n(2L).bestOf(4L).build());
        assertEquals(2, best.choices().size());
        for (int k = 0; k < 2; k++) {
            assertEquals(k, best.choices().get(k).index());
            assertEquals(all.choices().get(order.get(k)).text(), best.choices().get(k).text(), "rank " + k);
            assertTrue(best.choices().get(k).logprobs().isEmpty(), "logprobs only when asked");
        }
        assertEquals(48, best.usage().orElseThrow().completionTokens(), "usage counts every candidate");
    }

    @Test
    void feedbackIsStoredForKnownRequestsAndHealthAnswers() throws Exception {
        String id = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt("Hi").maxTokens(3L).build()).id();
        HttpClient http = HttpClient.newHttpClient();
        java.util.function.Function<String, HttpResponse<String>> feedback = json -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/feedback")).header("Authorization", "Bearer " + TestServer.KEY)
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        HttpResponse<String> ok = feedback.apply("{\"request_id\":\"" + id + "\",\"rating\":-1,\"correction\":\"The end.\",\"comment\":\"short\"}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("\"request_id\":\"" + id + "\""), ok.body());
        assertEquals(404, feedback.apply("{\"request_id\":\"cmpl-unknown\",\"rating\":1}").statusCode());
        assertEquals(400, feedback.apply("{\"request_id\":\"" + id + "\",\"rating\":\"good\"}").statusCode());
        assertEquals(400, feedback.apply("{\"rating\":1}").statusCode());
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/nowhere")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void aSeedMakesSamplingReproducible() {
        var p = ChatCompletionCreateParams.builder().model(TestServer.BASE).addUserMessage("Hello").maxCompletionTokens(25L)
                .temperature(1.0).topP(0.9).seed(7L).build();
        String a = client.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
        String b = client.chat().completions().create(p).choices().getFirst().message().content().orElseThrow();
        assertEquals(a, b);
    }

    @Test
    void errorsHaveOpenAisStatusesAndShape() throws Exception {
        var wrongKey = assertThrows(UnauthorizedException.class,
                () -> client("sk-wrong").chat().completions().create(chat(TestServer.BASE, "Hi", 5).build()));
        assertEquals(401, wrongKey.statusCode());
        assertEquals("invalid_api_key", wrongKey.code().orElseThrow());

        var unknown = assertThrows(NotFoundException.class, () -> client.chat().completions().create(chat("gpt-4o", "Hi", 5).build()));
        assertEquals("model_not_found", unknown.code().orElseThrow());
        assertTrue(unknown.getMessage().contains(TestServer.ADAPTER), unknown.getMessage());

        var n17 = assertThrows(BadRequestException.class, () -> client.chat().completions().create(chat(TestServer.BASE, "Hi", 5).n(17L).build()));
        assertEquals("n", n17.param().orElseThrow());

        var hot = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat(TestServer.BASE, "Hi", 5).temperature(3.0).build()));
        assertTrue(hot.getMessage().contains("between 0 and 2"), hot.getMessage());

        var tooLong = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat(TestServer.BASE, "Hi", 100_000).build()));
        assertEquals("context_length_exceeded", tooLong.code().orElseThrow());
        assertTrue(tooLong.getMessage().contains("512"), "names the context: " + tooLong.getMessage());

        String big = "a".repeat(100 * 1024); // over the test server's 64 KiB body limit
        var huge = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(chat(TestServer.BASE, big, 5).build()));
        assertEquals(413, huge.statusCode());

        // no key at all (the SDK always sends one): plain HTTP
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        assertTrue(r.body().contains("\"error\""), r.body());
        // bad JSON is a 400, not a 500
        r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + TestServer.KEY).POST(HttpRequest.BodyPublishers.ofString("{\"model\": ")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode());
    }
}
