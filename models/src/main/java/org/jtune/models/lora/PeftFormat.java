package org.jtune.models.lora;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.CausalLM;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * The Hugging Face PEFT adapter folder: adapter_config.json (peft_type LORA, r, lora_alpha,
 * lora_dropout, target_modules, use_rslora, trainable_token_indices, ...) and
 * adapter_model.safetensors with PEFT's key names,
 * {@code base_model.model.<module>.lora_A.weight} (r, in) and {@code .lora_B.weight} (out, r), and
 * trainable token rows under {@code base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta}
 * (R, dim) — the rows' values, not differences, as PEFT stores them. PEFT loads what this writes, and
 * this loads what PEFT writes.
 */
public final class PeftFormat {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String TOKEN_KEY = "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftFormat() {}

    /** "model.layers.0.self_attn.q_proj.weight" → "base_model.model.model.layers.0.self_attn.q_proj". */
    public static String moduleKey(String weightName) {
        return "base_model.model." + weightName.substring(0, weightName.length() - ".weight".length());
    }

    /** Writes adapter {@code name} of {@code model} (its pairs and trainable token rows); each file atomically. */
    public static void save(Path dir, CausalLM model, String name, String baseModel) throws JtuneException {
        Adapters.Info info = model.adapters().get(name);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : model.adapters().pairs(name).entrySet()) {
            String key = moduleKey(e.getKey());
            tensors.put(key + ".lora_A.weight", e.getValue().a().value());
            tensors.put(key + ".lora_B.weight", e.getValue().b().value());
        }
        if (info.tokens() != null) tensors.put(TOKEN_KEY, info.tokens().values().value());
        if (tensors.isEmpty()) throw new JtuneException("adapter " + name + " holds no tensor: nothing to save in " + dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new JtuneException("cannot create adapter folder " + dir + ": " + e.getMessage(), e);
        }
        SafetensorsWriter.defaults().withFloatDType(DType.F32).writeFile(dir.resolve(WEIGHTS_FILE), tensors);
        AtomicFile.writeString(dir.resolve(CONFIG_FILE), configJson(info.config(), baseModel));
    }

    static String configJson(LoraConfig c, String baseModel) {
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("base_model_name_or_path", baseModel);
        o.put("r", c.rank());
        o.put("lora_alpha", c.alpha());
        o.put("lora_dropout", c.dropout());
        ArrayNode targets = o.putArray("target_modules");
        c.targetModules().forEach(targets::add);
        o.put("use_rslora", c.useRslora());
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("modules_to_save");
        if (c.trainableTokenIndices().isEmpty()) o.putNull("trainable_token_indices");
        else {
            ArrayNode ids = o.putObject("trainable_token_indices").putArray("embed_tokens");
            c.trainableTokenIndices().forEach(ids::add);
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads adapter_config.json; unsupported settings are errors naming the key. */
    public static LoraConfig readConfig(Path dir) throws JtuneException {
        Path file = dir.resolve(CONFIG_FILE);
        JsonNode o;
        try {
            o = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new JtuneException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (o == null || !o.isObject()) throw new JtuneException(file + ": not a JSON object");
        if (!"LORA".equals(o.path("peft_type").asText())) throw new JtuneException(file + ": peft_type " + o.path("peft_type") + " is not supported (LORA only)");
        if (o.path("fan_in_fan_out").asBoolean(false)) throw new JtuneException(file + ": fan_in_fan_out=true is not supported");
        if (!"none".equals(o.path("bias").asText("none"))) throw new JtuneException(file + ": bias " + o.path("bias") + " is not supported (none only)");
        if (o.hasNonNull("rank_pattern") && !o.get("rank_pattern").isEmpty()) throw new JtuneException(file + ": rank_pattern is not supported");
        if (o.hasNonNull("alpha_pattern") && !o.get("alpha_pattern").isEmpty()) throw new JtuneException(file + ": alpha_pattern is not supported");
        List<String> targets = new ArrayList<>();
        JsonNode t = o.path("target_modules");
        if (t.isTextual()) {
            if (!t.asText().equals("all-linear")) throw new JtuneException(file + ": target_modules as a regex is not supported: " + t.asText());
            targets.addAll(LoraConfig.ALL_LINEAR); // resolved against the model's projections when loaded
        } else {
            for (JsonNode m : t) targets.add(m.asText());
        }
        List<Integer> tokens = new ArrayList<>();
        JsonNode tti = o.path("trainable_token_indices");
        if (tti.isArray()) tti.forEach(n -> tokens.add(n.asInt()));
        else if (tti.isObject()) {
            for (var e : tti.properties()) {
                if (!e.getKey().equals("embed_tokens")) throw new JtuneException(file + ": trainable_token_indices for " + e.getKey() + " is not supported");
                e.getValue().forEach(n -> tokens.add(n.asInt()));
            }
        }
        try {
            return new LoraConfig(o.path("r").asInt(0), (float) o.path("lora_alpha").asDouble(0), (float) o.path("lora_dropout").asDouble(0),
                    targets, o.path("use_rslora").asBoolean(false), tokens);
        } catch (IllegalArgumentException e) {
            throw new JtuneException(file + ": " + e.getMessage(), e);
        }
    }

    /** Loads an adapter folder onto {@code model} as the adapter named "default" and activates it; returns its config. */
    public static LoraConfig load(Path dir, CausalLM model) throws JtuneException {
        return load(dir, model, Adapters.DEFAULT);
    }

    /**
     * Loads an adapter folder onto {@code model} under {@code name} (frozen, for inference or merging)
     * and makes it the active adapter. Refuses, naming the file and tensor, an adapter that does not
     * fit the model: tensors for projections the model lacks, shapes that do not fit, a rank that
     * differs from adapter_config.json's r (it would change the scale), modules outside target_modules.
     */
    public static LoraConfig load(Path dir, CausalLM model, String name) throws JtuneException {
        LoraConfig config;
        try {
            config = readConfig(dir).resolve(model.weights().projections().stream().map(LoraLinear::name).toList(),
                    model.config().architecture());
        } catch (IllegalArgumentException e) {
            throw new JtuneException(dir.resolve(CONFIG_FILE) + ": " + e.getMessage(), e);
        }
        Path weights = dir.resolve(WEIGHTS_FILE);
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            Map<String, LoraPair> pairs = new LinkedHashMap<>();
            java.util.Set<String> used = new java.util.HashSet<>();
            for (LoraLinear lin : model.weights().projections()) {
                String key = moduleKey(lin.name());
                String ka = key + ".lora_A.weight", kb = key + ".lora_B.weight";
                boolean hasA = r.contains(ka), hasB = r.contains(kb);
                if (hasA != hasB) throw new JtuneException(weights + ": " + key + " has only one of lora_A and lora_B");
                if (!hasA) continue;
                used.add(ka);
                used.add(kb);
                if (!config.targets(lin.name())) {
                    throw new JtuneException(weights + ": " + key + " is not among target_modules " + config.targetModules() + " of " + CONFIG_FILE);
                }
                Tensor a = r.get(ka).to(DType.F32).copy();
                Tensor b = r.get(kb).to(DType.F32).copy();
                if (a.rank() != 2 || b.rank() != 2 || a.size(1) != lin.inFeatures() || b.size(0) != lin.outFeatures() || a.size(0) != b.size(1)) {
                    throw new JtuneException(weights + ": " + key + " lora_A " + java.util.Arrays.toString(a.shape()) + " / lora_B "
                            + java.util.Arrays.toString(b.shape()) + " do not fit a (" + lin.outFeatures() + ", " + lin.inFeatures() + ") projection");
                }
                if (a.size(0) != config.rank()) {
                    throw new JtuneException(weights + ": " + key + " has rank " + a.size(0) + " but " + CONFIG_FILE + " says r = " + config.rank()
                            + " (the scale alpha/r would be wrong)");
                }
                pairs.put(lin.name(), new LoraPair(Variable.constant(a), Variable.constant(b), config.scale(), 0f));
            }
            TrainableRows tokens = null;
            if (r.contains(TOKEN_KEY)) {
                used.add(TOKEN_KEY);
                Tensor rows = r.get(TOKEN_KEY).to(DType.F32).copy();
                int[] ids = config.trainableTokenIndices().stream().mapToInt(Integer::intValue).toArray();
                int dim = model.config().hiddenSize(), vocab = model.config().vocabSize();
                if (rows.rank() != 2 || rows.size(0) != ids.length || rows.size(1) != dim) {
                    throw new JtuneException(weights + ": " + TOKEN_KEY + " has shape " + java.util.Arrays.toString(rows.shape())
                            + ", expected (" + ids.length + ", " + dim + ")");
                }
                for (int id : ids) {
                    if (id < 0 || id >= vocab) throw new JtuneException(dir.resolve(CONFIG_FILE) + ": trainable token " + id + " outside the vocabulary of " + vocab);
                }
                tokens = new TrainableRows(ids, Variable.constant(rows));
            }
            for (String t : r.names()) {
                if (!used.contains(t)) {
                    throw new JtuneException(weights + ": tensor " + t + " does not belong to a projection of this model (was the adapter "
                            + "trained on another base or another number of layers?)");
                }
            }
            if (pairs.isEmpty() && tokens == null) throw new JtuneException(weights + ": no LoRA tensor matches this model");
            model.adapters().add(new Adapters.Info(name, config, tokens, dir.toString()), pairs);
        }
        return config;
    }
}
