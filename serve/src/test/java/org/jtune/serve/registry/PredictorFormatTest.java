package org.jtune.serve.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A promotion gate asks each model as `jtune eval` would: with the chat template and system message of the folder it is
 * told to format by (an adapter's, recorded by training), so a base model without a template of its own can be the
 * baseline of an adapter that has one; without any template the error says how to give one.
 */
class PredictorFormatTest {
    @Test
    void theBaseIsAskedWithTheCandidatesTemplateAndSystemMessage(@TempDir Path tmp) throws Exception {
        Path model = SharedData.require("models/stories260K"); // no chat template of its own
        Path test = Files.writeString(tmp.resolve("test.jsonl"), """
                {"messages":[{"role":"user","content":"Lily had a cat"},{"role":"assistant","content":"cat"}]}
                {"messages":[{"role":"user","content":"Tom went to the park"},{"role":"assistant","content":"park"}]}
                """);
        List<ChatTestSet.Example> examples = ChatTestSet.read(test);
        Predictor greedy = Predictor.greedy(6, 2, null);

        JtuneException none = assertThrows(JtuneException.class, () -> greedy.predict(model, null, null, examples));
        assertTrue(none.getMessage().contains("--chat-template"), none.getMessage());

        Path plain = tmp.resolve("format-plain");
        PromptFormat.write(plain, model, ChatTemplate.named("chatml"), null);
        Path withSystem = tmp.resolve("format-system");
        PromptFormat.write(withSystem, model, ChatTemplate.named("chatml"), "Once upon a time there was a story.");
        List<Prediction> asked = greedy.predict(model, null, plain, examples);
        List<Prediction> named = Predictor.greedy(6, 2, "chatml").predict(model, null, null, examples);
        List<Prediction> system = greedy.predict(model, null, withSystem, examples);
        assertEquals(2, asked.size());
        for (int i = 0; i < 2; i++) assertEquals(named.get(i).prediction(), asked.get(i).prediction(), "the folder's template, as if named");
        assertNotEquals(asked.stream().map(Prediction::prediction).toList(), system.stream().map(Prediction::prediction).toList(),
                "the recorded system message is part of the prompt");
    }
}
