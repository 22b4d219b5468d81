package org.jtune.train.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.AttentionMask;
import org.jtune.train.data.Conversation;
import org.jtune.train.prep.Batch;
import org.jtune.train.prep.Batcher;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.recipe.RecipeConfig;

/**
 * Evaluation during training: the validation loss (mean over trained tokens), and with eval_accuracy
 * the share of validation examples whose greedy answer, generated until EOS, equals the reference
 * answer after trimming and case folding — the classification accuracy a user cares about.
 *
 * @param accuracy null when not asked for
 */
record Evaluation(double loss, Double accuracy) {

    static Evaluation run(CausalLM model, RecipeConfig recipe, ChatEncoder encoder, TrainingData data, Tokenizer tokenizer)
            throws JtuneException {
        double sum = 0;
        long tokens = 0;
        try (var g = NoGrad.enter()) {
            for (Batch b : Batcher.padded(data.validation(), recipe.microBatchSize(), 0)) {
                var hidden = model.hidden(b.ids(), b.positions(), ForwardPass.of(AttentionMask.causalMask()));
                sum += FineTune.tokenLoss(model, hidden, b.targets(), 1f).value().item(); // the training loss, in chunks of rows
                tokens += b.trainedTokens();
            }
        }
        Double accuracy = recipe.evalAccuracy() ? accuracy(model, encoder, data.validationConversations(), tokenizer, 32) : null;
        return new Evaluation(tokens == 0 ? Double.NaN : sum / tokens, accuracy);
    }

    /** Greedy answers of the conversations (everything before the last assistant turn as the prompt) against their last answer. */
    static double accuracy(CausalLM model, ChatEncoder encoder, List<Conversation> conversations, Tokenizer tokenizer, int batch)
            throws JtuneException {
        int correct = 0, total = 0;
        int maxAnswer = 0;
        for (Conversation c : conversations) {
            maxAnswer = Math.max(maxAnswer, tokenizer.encode(c.finalAnswer().orElse(""), false).length);
        }
        SamplingConfig greedy = SamplingConfig.greedy(maxAnswer + 8).withStopIds(org.jtune.models.generate.StopIds.of(model.config(), tokenizer));
        for (int from = 0; from < conversations.size(); from += batch) {
            List<Conversation> part = conversations.subList(from, Math.min(conversations.size(), from + batch));
            List<int[]> prompts = new ArrayList<>();
            for (Conversation c : part) prompts.add(encoder.promptIds(c));
            List<Generator.Result> out = Generator.generate(model, prompts, greedy, ids -> tokenizer.decode(ids, true), null);
            for (int i = 0; i < part.size(); i++) {
                total++;
                if (normalise(out.get(i).text()).equals(normalise(part.get(i).finalAnswer().orElse("")))) correct++;
            }
        }
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    static String normalise(String s) {
        return s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    }
}
