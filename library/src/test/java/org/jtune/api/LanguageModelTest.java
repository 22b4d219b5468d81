package org.jtune.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.models.chat.Message;
import org.jtune.models.tools.ToolCall;
import org.jtune.models.tools.ToolChoice;
import org.jtune.models.tools.ToolDefinition;
import org.jtune.models.tools.ToolReply;
import org.jtune.models.tools.ToolUse;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.StopIds;
import org.jtune.testing.SharedData;
import org.jtune.train.recipe.DatasetSpec;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.run.FineTune;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library's promises beyond README's example: no leaked mappings, stop ids, over-long prompts, the Vector API error. */
class LanguageModelTest {
    @TempDir
    Path dir;

    /** Lines of /proc/self/maps that map {@code file} (Linux; -1 elsewhere). */
    private static long mappings(Path file) throws Exception {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return -1;
        String name = file.toRealPath().toString();
        return Files.readAllLines(maps).stream().filter(l -> l.endsWith(name)).count();
    }

    @Test
    void logLikelihoodMatchesTheStepEnginesIncrementalLogits() throws Exception {
        try (LanguageModel m = LanguageModel.load(SharedData.require("models/stories260K"))) {
            String context = "Once upon a time, there was a little", continuation = " girl named Lily.";
            Likelihood l = m.logLikelihood(context, continuation);
            int[] whole = m.tokenizer().encode(context + continuation, true), head = m.tokenizer().encode(context, true);
            assertEquals(whole.length - head.length, l.tokens());
            // the same ids through the step engine (KV cache, prompt chunks), logits reported per prompt position
            org.jtune.models.generate.StepEngine e = new org.jtune.models.generate.StepEngine(m.model(),
                    new org.jtune.models.generate.StepEngine.Limits(4, 7, 0, 16, 7));
            double[] want = {0};
            boolean[] greedy = {true};
            e.add(new org.jtune.models.generate.SequenceRequest(whole, org.jtune.models.generate.SamplingConfig.greedy(1), null, null, false, true),
                    new org.jtune.models.generate.Sequence.Listener() {
                        @Override
                        public void onToken(org.jtune.models.generate.Sequence s, int t, float[] logits) {}

                        @Override
                        public void onPromptLogits(org.jtune.models.generate.Sequence s, int p, float[] row) {
                            if (p < head.length) return;
                            double max = Double.NEGATIVE_INFINITY, sum = 0;
                            int arg = 0;
                            for (int v = 0; v < row.length; v++) if (row[v] > max) { max = row[v]; arg = v; }
                            for (float z : row) sum += Math.exp(z - max);
                            want[0] += row[whole[p]] - max - Math.log(sum);
                            greedy[0] &= arg == whole[p];
                        }
                    });
            while (!e.idle()) e.step();
            assertEquals(want[0], l.logprob(), 1e-4 * Math.abs(want[0]));
            assertEquals(greedy[0], l.greedy());
            assertEquals(l.logprob() / l.tokens(), l.perToken(), 1e-12);
            Likelihood moved = m.logLikelihood(context + " ", continuation.substring(1));
            assertEquals(l.logprob(), moved.logprob(), 1e-9, "a space ending the context moves to the continuation");
            String own = m.complete(context, 4);
            assertTrue(m.logLikelihood(context, own).logprob() > l.logprob() - 50, "the model's own continuation is scored");
            assertThrows(JtuneException.class, () -> m.logLikelihood(context, ""));
        }
    }

    @Test
    void threeRunsInOneJvmLeaveNoMapping() throws Exception {
        String copyBelow = System.getProperty("jtune.mapMinBytes");
        System.setProperty("jtune.mapMinBytes", "0"); // map even this small file (by default it would be read into memory)
        try {
            mappingsAreReleased();
        } finally {
            if (copyBelow == null) System.clearProperty("jtune.mapMinBytes");
            else System.setProperty("jtune.mapMinBytes", copyBelow);
        }
    }

    private void mappingsAreReleased() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path weights = model.resolve("model.safetensors");
        long before = mappings(weights);
        Path data = Files.writeString(dir.resolve("train.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Tom had a ball.\"},{\"role\":\"assistant\",\"content\":\"ball\"}]}\n".repeat(4));
        for (int run = 0; run < 3; run++) {
            RecipeConfig recipe = RecipeConfig.builder().baseModel(model).datasets(List.of(new DatasetSpec(data, DatasetSpec.Type.CHAT, null)))
                    .chatTemplate("chatml").maxSteps(1).microBatchSize(2).gradientAccumulationSteps(1).outputDir(dir.resolve("run" + run)).build();
            FineTune.run(recipe, dir.resolve("run" + run), false, new FineTune.Listener() {});
        }
        if (before >= 0) assertEquals(before, mappings(weights), "FineTune.run releases the base model's mapping");
        try (LanguageModel m = LanguageModel.load(model)) {
            if (before >= 0) assertEquals(before + 1, mappings(weights));
        }
        if (before >= 0) assertEquals(before, mappings(weights), "close() releases the mapping");
    }

    @Test
    void generationStopsAtEosAndOverlongPromptsAreInvalidAnswers() throws Exception {
        Path model = SharedData.require("models/stories260K");
        try (LanguageModel m = LanguageModel.load(model)) {
            int[] prompt = m.tokenizer().encode("Once upon a time", true);
            List<Integer> eos = StopIds.of(m.model().config(), m.tokenizer());
            SamplingConfig answers = SamplingConfig.greedyUntilEos(m.model().config(), m.tokenizer(), 40);
            assertTrue(!eos.isEmpty() && answers.stopIds().equals(eos), "greedyUntilEos stops at the EOS ids " + eos);
            // stories260K never learned to emit its EOS, so show the stop on a token it does emit: the run ends there
            int[] free = Generator.generate(m.model(), List.of(prompt), SamplingConfig.greedy(40), null, null).getFirst().outputIds();
            assertEquals(40, free.length);
            int k = 6;
            while (k > 0 && indexOf(free, free[k]) < k) k--;
            Generator.Result stopped = Generator.generate(m.model(), List.of(prompt), answers.withStopIds(List.of(free[k])), null, null).getFirst();
            assertEquals(k + 1, stopped.outputIds().length);
            assertEquals(m.tokenizer().decode(free, true), m.complete("Once upon a time", 40));

            String longText = "Tom ran and ran. ".repeat(200);
            var examples = List.of(new ChatTestSet.Example("1", List.of(Message.user("Tom had a ball.")), "ball", "t:1"),
                    new ChatTestSet.Example("2", List.of(Message.user(longText)), "ball", "t:2"));
            List<Prediction> p = new ModelEvaluation(m.model(), m.tokenizer(), org.jtune.models.chat.ChatTemplate.named("chatml"), null,
                    ModelEvaluation.greedy(m.model(), m.tokenizer(), 8), 4).run(examples);
            assertEquals(null, p.get(0).invalidReason());
            assertNotNull(p.get(1).invalidReason());
            assertTrue(p.get(1).invalidReason().contains("exceeds the model's context of 512"), p.get(1).invalidReason());
            assertEquals("", p.get(1).prediction());
            EvalResult e = m.evaluate(List.of(org.jtune.train.data.Conversation.of(Message.user(longText), Message.assistant("ball"))),
                    Task.CLASSIFICATION);
            assertEquals(0.0, e.metric("accuracy"));
        }
    }

    @Test
    void chatJsonAnswersWithJsonOfTheSchemaOrSaysWhyNot() throws Exception {
        Path model = SharedData.require("models/stories260K");
        ObjectMapper json = new ObjectMapper();
        JsonNode schema = json.readTree("""
                {"type":"object","properties":{"intent":{"enum":["billing","card","refund"]},"urgent":{"type":"boolean"},
                 "note":{"type":"string","maxLength":12}},"required":["intent","urgent","note"],"additionalProperties":false}""");
        try (LanguageModel m = LanguageModel.load(model)) {
            for (String ticket : List.of("My card was charged twice.", "Where is my refund?")) {
                JsonNode answer = m.chatJson(ticket, schema);
                assertTrue(List.of("billing", "card", "refund").contains(answer.get("intent").asText()), answer.toString());
                assertTrue(answer.get("urgent").isBoolean() && answer.get("note").asText().length() <= 12, answer.toString());
                assertEquals(3, answer.size(), answer.toString());
            }
            JsonNode free = json.readTree("{\"type\":\"object\",\"properties\":{\"story\":{\"type\":\"string\"}},\"required\":[\"story\"]}");
            JtuneException cut = assertThrows(JtuneException.class, () -> m.maxNewTokens(20).chatJson("Tell me a story.", free));
            assertTrue(cut.getMessage().contains("before its JSON value was complete"), cut.getMessage());
            JtuneException pattern = assertThrows(JtuneException.class,
                    () -> m.chatJson("x", json.readTree("{\"type\":\"string\",\"pattern\":\"a+\"}")));
            assertTrue(pattern.getMessage().contains("\"pattern\""), pattern.getMessage());
        }
    }

    @Test
    void chatToolsCallsAToolAndTakesItsResultBack() throws Exception {
        Path model = SharedData.require("models/stories260K");
        ObjectMapper json = new ObjectMapper();
        List<ToolDefinition> tools = ToolDefinition.fromOpenAi(json.readTree("[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"strict\":true,\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"enum\":[\"Paris\",\"Rome\"]}},"
                + "\"required\":[\"city\"],\"additionalProperties\":false}}}]"));
        try (LanguageModel m = LanguageModel.load(model).maxNewTokens(160)) {
            List<Message> conversation = new java.util.ArrayList<>(List.of(Message.user("Rain in Paris?")));
            ToolReply reply = m.chatTools(conversation, new ToolUse(tools, ToolChoice.REQUIRED, false));
            assertEquals(1, reply.calls().size(), reply.toString());
            ToolCall call = reply.calls().getFirst();
            assertEquals("get_weather", call.name());
            assertTrue(List.of("Paris", "Rome").contains(json.readTree(call.arguments()).get("city").asText()), call.arguments());
            conversation.add(new Message("assistant", null, java.util.Map.of("tool_calls", List.of(call.toOpenAi()))));
            conversation.add(new Message("tool", "dry", java.util.Map.of("tool_call_id", call.id())));
            ToolReply answer = m.chatTools(conversation, new ToolUse(tools, ToolChoice.NONE, false));
            assertTrue(answer.calls().isEmpty());
            assertTrue(answer.content() != null && !answer.content().isEmpty(), answer.toString());
        }
    }

    @Test
    void withoutTheVectorApiLoadSaysWhichFlagToAdd() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), VectorApiProbe.class.getName(),
                dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("--add-modules jdk.incubator.vector"), out);
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
        return -1;
    }

    /** Run in a JVM without the module: prints the load error. */
    public static final class VectorApiProbe {
        public static void main(String[] args) {
            try {
                LanguageModel.load(Path.of(args[0])).close();
                System.out.println("loaded without the Vector API?");
            } catch (Exception e) {
                System.out.println(e.getMessage());
            }
        }
    }
}
