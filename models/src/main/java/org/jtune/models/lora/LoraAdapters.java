package org.jtune.models.lora;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Attaches a fresh, trainable LoRA adapter to a model as PEFT initialises one: A Kaiming-uniform
 * with a = √5 (bound 1/√in), B zeros, so the adapted model starts equal to the base. Trainable token
 * rows start as copies of their embedding rows, or as the mean embedding row when asked (the fix
 * for tokens a base model never saw, such as stories260K's EOS). Parameters live on the device of
 * the weights they adapt.
 */
public final class LoraAdapters {
    private LoraAdapters() {}

    /**
     * Adds adapter {@code name} on every projection {@code requested} targets, makes it the active one,
     * and returns its trainable parameters by PEFT tensor name. The target modules are checked against
     * the model's own projections (IllegalArgumentException naming the ones it has), and all-linear
     * becomes their names.
     */
    public static Map<String, Variable> attach(CausalLM model, String name, LoraConfig requested, Rng rng, boolean initTokensFromMean) {
        LoraConfig config = requested.resolve(model.weights().projections().stream().map(LoraLinear::name).toList(),
                model.config().architecture());
        Map<String, Variable> params = new LinkedHashMap<>();
        Map<String, LoraPair> pairs = new LinkedHashMap<>();
        for (LoraLinear lin : model.weights().projections()) {
            if (!config.targets(lin.name())) continue;
            int in = lin.inFeatures(), out = lin.outFeatures();
            float bound = (float) (1.0 / Math.sqrt(in));
            String key = PeftFormat.moduleKey(lin.name());
            Device device = lin.weight().value().device(); // drawn on the host, kept on the weight's device
            Variable a = Variable.parameter(Tensor.uniform(rng, -bound, bound, config.rank(), in).to(device)).named(key + ".lora_A.weight");
            Variable b = Variable.parameter(Tensor.zeros(out, config.rank()).to(device)).named(key + ".lora_B.weight");
            Variable magnitude = null;
            if (config.useDora()) { // DoRA starts at the base's own row norms: with B = 0 the projection is unchanged
                double[] sq = DoraScale.rowNormsSquared(lin.weight().value());
                float[] m = new float[out];
                for (int i = 0; i < out; i++) m[i] = (float) Math.sqrt(sq[i]);
                magnitude = Variable.parameter(Tensor.of(m, out).to(device)).named(key + ".lora_magnitude_vector");
                params.put(magnitude.name(), magnitude);
            }
            pairs.put(lin.name(), new LoraPair(a, b, config.scale(), config.dropout(), magnitude));
            params.put(a.name(), a);
            params.put(b.name(), b);
        }
        if (pairs.isEmpty() && config.trainableTokenIndices().isEmpty()) {
            throw new IllegalArgumentException("lora_target_modules " + config.targetModules() + " match no projection of this model");
        }
        TrainableRows tokens = null;
        if (!config.trainableTokenIndices().isEmpty()) {
            int[] ids = config.trainableTokenIndices().stream().mapToInt(Integer::intValue).toArray();
            Tensor table = model.weights().embedding().value().value();
            int vocab = table.size(0), dim = table.size(1);
            Tensor rows = Tensor.zeros(ids.length, dim);
            Tensor mean = initTokensFromMean ? meanRow(table) : null;
            for (int r = 0; r < ids.length; r++) {
                if (ids[r] < 0 || ids[r] >= vocab) {
                    throw new IllegalArgumentException("trainable_token_indices: token " + ids[r] + " outside the vocabulary of " + vocab);
                }
                Ops.copyInto(mean != null ? mean : table.select(0, ids[r]), rows.select(0, r));
            }
            Variable values = Variable.parameter(rows.to(table.device())).named(PeftFormat.TOKEN_KEY);
            tokens = new TrainableRows(ids, values);
            params.put(PeftFormat.TOKEN_KEY, values);
        }
        model.adapters().add(new Adapters.Info(name, config, tokens, "new"), pairs);
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
}
