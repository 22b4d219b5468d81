package org.jtune.models.lora;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.llama.LlamaModel;
import org.jtune.models.llama.LoraAdapter;
import org.jtune.models.llama.LoraLinear;
import org.jtune.tensor.DType;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Attaches fresh LoRA adapters to a model as PEFT initialises them: A Kaiming-uniform with a = √5
 * (bound 1/√in), B zeros, so the adapted model starts equal to the base. Trainable token rows start
 * as copies of their embedding rows, or as the mean embedding row when asked (the fix for tokens a
 * base model never saw, such as stories260K's EOS). Returns the trainable parameters by PEFT name.
 */
public final class LoraAdapters {
    private LoraAdapters() {}

    public static Map<String, Variable> attach(LlamaModel model, LoraConfig config, Rng rng, boolean initTokensFromMean) {
        Map<String, Variable> params = new LinkedHashMap<>();
        for (LoraLinear lin : model.projections()) {
            if (!config.targets(lin.name())) continue;
            int in = lin.inFeatures(), out = lin.outFeatures();
            float bound = (float) (1.0 / Math.sqrt(in));
            Variable a = Variable.parameter(Tensor.uniform(rng, -bound, bound, config.rank(), in));
            Variable b = Variable.parameter(Tensor.zeros(out, config.rank()));
            lin.setAdapter(new LoraAdapter(a, b, config.scale(), config.dropout()));
            String base = PeftFormat.moduleKey(lin.name());
            params.put(base + ".lora_A.weight", a.named(base + ".lora_A.weight"));
            params.put(base + ".lora_B.weight", b.named(base + ".lora_B.weight"));
        }
        if (!config.trainableTokenIndices().isEmpty()) {
            int[] ids = config.trainableTokenIndices().stream().mapToInt(Integer::intValue).toArray();
            Tensor table = model.embedTokens().value();
            int vocab = table.size(0), dim = table.size(1);
            Tensor rows = Tensor.zeros(ids.length, dim);
            Tensor mean = initTokensFromMean ? meanRow(table) : null;
            for (int r = 0; r < ids.length; r++) {
                if (ids[r] < 0 || ids[r] >= vocab) {
                    throw new IllegalArgumentException("trainable_token_indices: token " + ids[r] + " outside the vocabulary of " + vocab);
                }
                org.jtune.tensor.Ops.copyInto(mean != null ? mean : table.select(0, ids[r]), rows.select(0, r));
            }
            Variable values = Variable.parameter(rows).named(PeftFormat.TOKEN_KEY);
            model.setTrainableTokens(new TrainableRows(ids, values));
            params.put(PeftFormat.TOKEN_KEY, values);
        }
        return params;
    }

    /** The mean of all rows of an embedding table (dim), in F32. */
    static Tensor meanRow(Tensor table) {
        Tensor t = table.to(DType.F32);
        int vocab = t.size(0), dim = t.size(1);
        double[] acc = new double[dim];
        for (int v = 0; v < vocab; v++) for (int d = 0; d < dim; d++) acc[d] += t.get(v, d);
        float[] m = new float[dim];
        for (int d = 0; d < dim; d++) m[d] = (float) (acc[d] / vocab);
        return Tensor.of(m, dim);
    }

    /** Removes every adapter and trainable token row (back to the base model). */
    public static void detach(LlamaModel model) {
        for (LoraLinear lin : model.projections()) lin.setAdapter(null);
        model.setTrainableTokens(null);
    }
}
