package org.jtune.train.run;

import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.train.prep.TokenizedExample;
import org.jtune.train.recipe.RecipeConfig;

/**
 * Recipe settings checked against the model before the data is read, and the encoded data checked
 * before the first step: the mistakes that used to hang (a sequence_len past the model's context: it is
 * shortened to the context, saying so),
 * crash deep inside training (a token id past the vocabulary), or run to the end training nothing
 * (a chat template that renders no assistant tokens: loss 0, validation NaN).
 */
final class RunChecks {
    private RunChecks() {}

    /**
     * The recipe with sequence_len at most the model's context: a longer one cannot be trained (positions
     * past max_position_embeddings), and packing examples into a huge one used to hang. Says so when it
     * shortens it (Axolotl's default 2048 is longer than small models' context).
     */
    static RecipeConfig fitContext(RecipeConfig recipe, int context, FineTune.Listener listener) {
        if (recipe.sequenceLen() <= context) return recipe;
        listener.info("WARNING recipe key sequence_len: " + recipe.sequenceLen() + " is longer than the model's context of " + context
                + " tokens (max_position_embeddings); training with sequence_len " + context);
        return recipe.toBuilder().sequenceLen(context).build();
    }

    /** lora_r and lora_target_modules against the projections, token ids against the vocabulary. */
    static void againstModel(RecipeConfig recipe, CausalLM model, Tokenizer tokenizer, List<Integer> tokenRows) throws JtuneException {
        int rows = model.config().vocabSize();
        for (int id : tokenRows) {
            if (id < 0 || id >= rows || id >= tokenizer.vocabSize()) {
                throw new JtuneException("recipe key trainable_token_indices: token " + id + " is outside the vocabulary of "
                        + Math.min(rows, tokenizer.vocabSize()) + " tokens");
            }
        }
        if (!recipe.adapter().isLora()) return;
        List<String> modules = model.weights().projections().stream().map(l -> LoraConfig.moduleName(l.name())).distinct().toList();
        List<String> targets = recipe.loraTargetModules().contains(RecipeConfig.ALL_LINEAR) ? modules : recipe.loraTargetModules();
        for (String m : targets) {
            if (!modules.contains(m)) {
                throw new JtuneException("recipe key lora_target_modules: " + model.config().architecture() + " has no module '" + m + "'"
                        + closest(m, modules) + " (its projections: " + String.join(", ", modules) + ", or " + RecipeConfig.ALL_LINEAR + ")");
            }
        }
        LoraLinear smallest = null;
        boolean allLinear = recipe.loraTargetModules().contains(RecipeConfig.ALL_LINEAR);
        for (LoraLinear lin : model.weights().projections()) {
            // a mixture's router has one row per expert (8 in Mixtral): all-linear adapts it as PEFT does, whatever the rank
            boolean targeted = targets.contains(LoraConfig.moduleName(lin.name())) && !(allLinear && lin.base().role() == Weight.Role.ROUTER);
            if (targeted && (smallest == null || Math.min(lin.inFeatures(), lin.outFeatures()) < Math.min(smallest.inFeatures(), smallest.outFeatures()))) {
                smallest = lin;
            }
        }
        if (smallest == null) throw new JtuneException("recipe key lora_target_modules: " + targets + " match no projection of this model");
        int limit = Math.min(smallest.inFeatures(), smallest.outFeatures());
        if (recipe.loraR() > limit) {
            throw new JtuneException("recipe key lora_r: " + recipe.loraR() + " is larger than the smaller side (" + limit + ") of "
                    + smallest.name() + " (" + smallest.outFeatures() + " x " + smallest.inFeatures() + "); a rank above min(in, out) "
                    + "adds parameters but no capacity: use at most " + limit);
        }
    }

    /** " (did you mean 'q_proj'?)" for a name one or two edits from a known one, else "". */
    private static String closest(String name, List<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = editDistance(name, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Refuses data in which no token is trained (the loss would be 0 and the validation loss NaN). */
    static void trainedTokens(TrainingData data, ChatTemplate template) throws JtuneException {
        long trained = data.train().stream().mapToLong(TokenizedExample::trainedTokens).sum();
        String why = "the chat template (" + template.origin() + ") renders no assistant tokens, or every assistant message has \"weight\": 0";
        if (trained == 0) {
            throw new JtuneException("no token of the " + data.train().size() + " training examples would be trained: " + why
                    + "; nothing would be learned. Check the template with `jtune tokenize --model DIR --input FILE`");
        }
        if (!data.validation().isEmpty() && data.validation().stream().mapToLong(TokenizedExample::trainedTokens).sum() == 0) {
            throw new JtuneException("no token of the " + data.validation().size() + " validation examples is scored: " + why
                    + "; the validation loss would be NaN");
        }
    }
}
