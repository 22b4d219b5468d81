package org.jtune.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.NoGrad;
import org.jtune.autograd.Variable;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.io.ModelExport;
import org.jtune.models.weights.Weight;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;
import org.jtune.train.checkpoint.Checkpoint;
import org.jtune.train.optim.Optimizer;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.prep.TokenizedExample;
import org.jtune.train.recipe.RecipeConfig;

/**
 * The setup steps of {@link FineTune} that are not the training itself: choosing the chat template,
 * the preflight checks that catch the mistakes users of other trainers keep reporting (a template
 * whose end of turn is not a token the model can emit, a tokenizer larger than the embedding table,
 * end-of-turn tokens the base model never learned), trainable parameters, resume and export.
 */
final class RunSetup {
    private RunSetup() {}

    static ChatTemplate chatTemplate(RecipeConfig recipe, Path base) throws JtuneException {
        return ChatTemplate.resolve(base, recipe.chatTemplate(), "the recipe key chat_template");
    }

    static void preflight(CausalLM model, Tokenizer tokenizer, ChatTemplate template, FineTune.Listener listener) throws JtuneException {
        int rows = model.config().vocabSize();
        if (tokenizer.vocabSize() > rows) {
            throw new JtuneException("preflight: the tokenizer has " + tokenizer.vocabSize() + " tokens but the embedding table only "
                    + rows + " rows; ids past " + (rows - 1) + " would crash training");
        }
        String rendered = template.render(List.of(Message.user("ping"), Message.assistant("pong")), false, null);
        int[] ids = tokenizer.encode(rendered, false);
        List<Integer> eos = new ArrayList<>();
        for (int e : tokenizer.eosIds()) eos.add(e);
        eos.addAll(model.config().eosTokenIds());
        boolean endsWithEos = false;
        for (int i = ids.length - 1; i >= 0 && i >= ids.length - 3; i--) if (eos.contains(ids[i])) endsWithEos = true;
        if (!endsWithEos) {
            listener.info("WARNING preflight: the chat template (" + template.origin() + ") does not close an assistant turn with an EOS token "
                    + eos + "; a fine-tuned model will not know where to stop. Rendered: " + rendered.replace("\n", "\\n"));
        }
    }

    static List<Integer> trainableTokenIds(RecipeConfig recipe, Tokenizer tokenizer) throws JtuneException {
        List<Integer> ids = new ArrayList<>(recipe.trainableTokenIndices().ids());
        for (String name : recipe.trainableTokenIndices().names()) {
            switch (name) {
                case "eos" -> {
                    if (tokenizer.eosIds().length == 0) throw new JtuneException("trainable_token_indices: the tokenizer has no EOS token");
                    ids.add(tokenizer.eosIds()[0]);
                }
                case "bos" -> ids.add(tokenizer.bosId());
                default -> ids.add(tokenizer.idOf(name).orElseThrow(
                        () -> new JtuneException("trainable_token_indices: no token \"" + name + "\" in the tokenizer")));
            }
        }
        return ids.stream().distinct().toList();
    }

    /**
     * Says which end-of-turn tokens the base model almost never predicts where the data needs them
     * (mean probability below 1e-3 over a few training examples): LoRA alone cannot teach a model to
     * emit a token whose rows it never learned, so the fine-tuned model would never stop.
     */
    static void warnUntrainedTokens(CausalLM model, ChatEncoder encoder, TrainingData data, List<Integer> trainable,
                                    FineTune.Listener listener) {
        Map<Integer, double[]> seen = new LinkedHashMap<>(); // id -> {probability sum, count}
        List<Integer> eos = model.config().eosTokenIds();
        try (var g = NoGrad.enter()) {
            for (TokenizedExample e : data.train().subList(0, Math.min(8, data.train().size()))) {
                int t = e.length();
                int[] pos = new int[t];
                for (int i = 0; i < t; i++) pos[i] = i;
                Tensor logits = model.logits(model.hidden(Tensor.ofInts(e.ids(), 1, t), Tensor.ofInts(pos, 1, t),
                        ForwardPass.of(org.jtune.tensor.AttentionMask.causalMask()))).value();
                for (int i = 0; i + 1 < t; i++) {
                    int next = e.ids()[i + 1];
                    if (!e.trained()[i + 1] || !eos.contains(next)) continue;
                    float[] row = logits.select(1, i).toFloatArray();
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float v : row) max = Math.max(max, v);
                    for (float v : row) sum += Math.exp(v - max);
                    double p = Math.exp(row[next] - max) / sum;
                    double[] acc = seen.computeIfAbsent(next, k -> new double[2]);
                    acc[0] += p;
                    acc[1]++;
                }
            }
        }
        for (var en : seen.entrySet()) {
            double mean = en.getValue()[0] / en.getValue()[1];
            if (mean < 1e-3 && !trainable.contains(en.getKey())) {
                listener.info(String.format("WARNING token %d (end of turn) looks untrained in the base model: mean probability %.2e where the "
                        + "data needs it. LoRA alone cannot teach it; add `trainable_token_indices: [eos]` (and "
                        + "`init_new_tokens_from_mean: true`) to the recipe, or the fine-tuned model may never stop.", en.getKey(), mean));
            }
        }
    }

    /** Every weight becomes an F32 trainable parameter (a heap copy of mapped weights). */
    static Map<String, Variable> makeFullyTrainable(CausalLM model) {
        Map<String, Variable> params = new LinkedHashMap<>();
        for (Weight w : model.weights().all()) {
            Tensor v = w.value().value();
            Tensor copy = v.dtype() == DType.F32 && v.storage().floatArray() != null ? v : v.to(DType.F32).copy();
            Variable p = Variable.parameter(copy).named(w.name());
            w.set(p);
            params.put(w.name(), p);
        }
        return params;
    }

    static void restore(Checkpoint c, Map<String, Variable> params, Optimizer optimizer) throws JtuneException {
        for (var e : params.entrySet()) {
            Tensor saved = c.weights().get(e.getKey());
            if (saved == null) throw new JtuneException("checkpoint has no tensor " + e.getKey() + " (was it written by another recipe?)");
            if (!java.util.Arrays.equals(saved.shape(), e.getValue().shape())) {
                throw new JtuneException("checkpoint tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(saved.shape())
                        + " but the parameter has " + java.util.Arrays.toString(e.getValue().shape()));
            }
            Ops.copyInto(saved, e.getValue().value());
        }
        optimizer.restore(c.optimizer());
    }

    static void saveModel(CausalLM model, Path base, Path out, org.jtune.io.StagedFolder.Extra extra) throws JtuneException {
        ModelExport.save(model, base, out, 2_000_000_000L, extra);
    }
}
