package org.jtune.serve.registry;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;

/** Answers a test set with a model folder and, optionally, a PEFT adapter on it (what a promotion gate compares). */
@FunctionalInterface
public interface Predictor {
    List<Prediction> predict(Path model, Path adapter, List<ChatTestSet.Example> examples) throws JtuneException;

    /** Batched greedy generation through the model's chat template, as `jtune eval --model` does. */
    static Predictor greedy(int maxNewTokens, int batchSize) {
        return (model, adapter, examples) -> {
            try (CausalLM m = Architectures.load(model)) {
                if (adapter != null) PeftFormat.load(adapter, m);
                Tokenizer tok = Tokenizer.load(model);
                return new ModelEvaluation(m, tok, ChatTemplate.load(model), null, ModelEvaluation.greedy(m, tok, maxNewTokens), batchSize)
                        .run(examples);
            } catch (JtuneException e) {
                throw e;
            } catch (Exception e) {
                throw new JtuneException(model + (adapter != null ? " with adapter " + adapter : "") + ": " + e.getMessage(), e);
            }
        };
    }
}
