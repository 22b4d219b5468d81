package org.jtune.serve.registry;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Answers a test set with a model folder and, optionally, a PEFT adapter on it (what a promotion gate compares), prompts
 * formatted as the folder {@code format} says: its chat template and recorded system message (an adapter's, else the
 * model's; `jtune eval` formats them so too), so a version is judged as it was trained and a base model is asked what
 * the candidate is asked.
 */
@FunctionalInterface
public interface Predictor {
    /** @param format the adapter or model folder whose prompt format is used; null: the model's own */
    List<Prediction> predict(Path model, Path adapter, Path format, List<ChatTestSet.Example> examples) throws JtuneException;

    /**
     * Batched greedy generation, as `jtune eval --model` does.
     *
     * @param chatTemplate a built-in template name or Jinja file used instead of the folders' own; null: theirs
     */
    static Predictor greedy(int maxNewTokens, int batchSize, String chatTemplate) {
        return (model, adapter, format, examples) -> {
            try (CausalLM m = Architectures.load(model)) {
                if (adapter != null) PeftFormat.load(adapter, m);
                Tokenizer tok = Tokenizer.load(model);
                ChatTemplate template = ChatTemplate.resolve(model, format, chatTemplate, "--chat-template");
                return new ModelEvaluation(m, tok, template, PromptFormat.systemMessage(model, format, null), ModelEvaluation.greedy(m, tok, maxNewTokens),
                        batchSize).run(examples);
            } catch (JtuneException e) {
                throw e;
            } catch (Exception e) {
                throw new JtuneException(model + (adapter != null ? " with adapter " + adapter : "") + ": " + e.getMessage(), e);
            }
        };
    }
}
