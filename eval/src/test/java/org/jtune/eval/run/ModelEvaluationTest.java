package org.jtune.eval.run;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base stories260K on banking15 test examples: predictions for every example, a self-comparison with zero deltas and McNemar p = 1, clear errors for bad input. */
class ModelEvaluationTest {
    @Test
    void baseModelRunsEndToEndAndSelfComparisonIsNeutral() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        List<ChatTestSet.Example> examples = ChatTestSet.read(SharedData.require("data/banking15/test.jsonl")).subList(0, 24);
        try (CausalLM model = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            ChatTemplate t = ChatTemplate.named("llama2").withSpecialTokens(TokenizerConfig.read(dir).specialTokens());
            List<Prediction> batched = new ModelEvaluation(model, tok, t, "Classify the intent.", ModelEvaluation.greedy(model, tok, 16), 8).run(examples);
            List<Prediction> single = new ModelEvaluation(model, tok, t, "Classify the intent.", ModelEvaluation.greedy(model, tok, 16), 1).run(examples);
            assertEquals(24, batched.size());
            for (int i = 0; i < 24; i++) assertEquals(single.get(i).prediction(), batched.get(i).prediction(), "batched = one at a time, example " + i);
            Evaluator ev = EvalSettings.DEFAULTS.evaluatorFor(Task.CLASSIFICATION);
            Comparison self = Comparison.run(ev, batched, batched, 200, 1);
            for (MetricDelta d : self.deltas()) assertEquals(0.0, d.delta(), 0.0, d.metric());
            assertEquals(1.0, self.mcnemar().pValue(), 0.0);
            assertEquals(0.0, self.candidate().metric("accuracy"), 0.05, "a TinyStories model does not know banking intents");
        }
    }

    @Test
    void badTestSetsAreClearErrorsAndLongPromptsInvalidAnswers(@TempDir Path tmp) throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "\n");
        assertTrue(assertThrows(JtuneException.class, () -> ChatTestSet.read(empty)).getMessage().contains("no examples"));
        Path noAnswer = Files.writeString(tmp.resolve("a.jsonl"), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
        assertTrue(assertThrows(JtuneException.class, () -> ChatTestSet.read(noAnswer)).getMessage().startsWith("a.jsonl:1"));
        Path broken = Files.writeString(tmp.resolve("b.jsonl"), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"x\"}]}\n{oops\n");
        assertTrue(assertThrows(JtuneException.class, () -> ChatTestSet.read(broken)).getMessage().startsWith("b.jsonl:2"));
        Path dir = SharedData.require("models/stories260K");
        Path longPrompt = Files.writeString(tmp.resolve("c.jsonl"), "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "word ".repeat(600)
                + "\"},{\"role\":\"assistant\",\"content\":\"x\"}]}\n");
        try (CausalLM model = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            ModelEvaluation run = new ModelEvaluation(model, tok, ChatTemplate.named("chatml"), null, ModelEvaluation.greedy(model, tok, 8), 4);
            // an over-long prompt is an invalid prediction with its reason, not the end of the run
            var p = run.run(ChatTestSet.read(longPrompt)).getFirst();
            assertEquals("c.jsonl:1", p.where());
            assertEquals("", p.prediction());
            assertTrue(p.invalidReason() != null && p.invalidReason().contains("context of 512"), p.invalidReason());
        }
    }
}
