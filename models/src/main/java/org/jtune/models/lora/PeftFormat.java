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
import org.jtune.io.FolderLock;
import org.jtune.io.StagedFolder;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.ModelFingerprint;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.CausalLM;
import org.jtune.tensor.DType;
import org.jtune.tensor.NonFinite;
import org.jtune.tensor.Tensor;

/**
 * The Hugging Face PEFT adapter folder: adapter_config.json (peft_type LORA, r, lora_alpha,
 * lora_dropout, target_modules, use_rslora, trainable_token_indices, ...) and
 * adapter_model.safetensors with PEFT's key names,
 * {@code base_model.model.<module>.lora_A.weight} (r, in) and {@code .lora_B.weight} (out, r), with DoRA (use_dora)
 * {@code .lora_magnitude_vector} (out), and
 * trainable token rows under {@code base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta}
 * (R, dim) — the rows' values, not differences, as PEFT stores them. PEFT loads what this writes, and
 * this loads what PEFT writes.
 *
 * <p>jtune adds one thing PEFT ignores: the {@link ModelFingerprint} of the base model the adapter was
 * trained on, in the safetensors metadata under {@value #BASE_FINGERPRINT_KEY}; loading compares it
 * with the folder the model came from and refuses another base unless told to allow it. A folder is
 * written whole (staged beside and switched in, under the folder's lock): a crash leaves the previous
 * adapter or the new one. Tensors holding NaN or ±Inf are refused on save and on load.
 */
public final class PeftFormat {
    public static final String CONFIG_FILE = "adapter_config.json";
    /** DoRA's magnitude vector of a module, as PEFT saves it: {@code <module>.lora_magnitude_vector}, (out). */
    static final String MAGNITUDE_SUFFIX = ".lora_magnitude_vector";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String TOKEN_KEY = "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
    /** Safetensors metadata key of the base model's fingerprint. */
    public static final String BASE_FINGERPRINT_KEY = "jtune.base_model_sha256";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftFormat() {}

    /** "model.layers.0.self_attn.q_proj.weight" → "base_model.model.model.layers.0.self_attn.q_proj". */
    public static String moduleKey(String weightName) {
        return "base_model.model." + weightName.substring(0, weightName.length() - ".weight".length());
    }

    /** Writes adapter {@code name} of {@code model} (its pairs and trainable token rows) as a complete folder. */
    public static void save(Path dir, CausalLM model, String name, String baseModel) throws JtuneException {
        save(dir, model, name, baseModel, StagedFolder.Extra.NONE);
    }

    /**
     * As {@link #save(Path, CausalLM, String, String)}, with {@code extra} files (the prompt format, a
     * README) written into the staged folder, so that they arrive with the adapter or not at all.
     */
    public static void save(Path dir, CausalLM model, String name, String baseModel, StagedFolder.Extra extra) throws JtuneException {
        Adapters.Info info = model.adapters().get(name);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : model.adapters().pairs(name).entrySet()) {
            String key = moduleKey(e.getKey());
            tensors.put(key + ".lora_A.weight", e.getValue().a().value());
            tensors.put(key + ".lora_B.weight", e.getValue().b().value());
            if (e.getValue().magnitude() != null) tensors.put(key + MAGNITUDE_SUFFIX, e.getValue().magnitude().value());
        }
        if (info.tokens() != null) tensors.put(TOKEN_KEY, info.tokens().values().value());
        if (tensors.isEmpty()) throw new JtuneException("adapter " + name + " holds no tensor: nothing to save in " + dir);
        Map<String, String> metadata = new LinkedHashMap<>();
        var source = Architectures.sourceOf(model);
        if (source.isPresent()) metadata.put(BASE_FINGERPRINT_KEY, ModelFingerprint.of(source.get()));
        StagedFolder.refuseForeign(dir, "adapter", CONFIG_FILE, WEIGHTS_FILE);
        try (FolderLock lock = FolderLock.acquire(dir, "saving an adapter"); StagedFolder staged = StagedFolder.begin(dir)) {
            SafetensorsWriter.defaults().withFloatDType(DType.F32).withMetadata(metadata).writeFile(staged.path().resolve(WEIGHTS_FILE), tensors);
            AtomicFile.writeString(staged.path().resolve(CONFIG_FILE), configJson(info.config(), baseModel));
            extra.writeInto(staged.path());
            staged.commit();
        }
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
        o.put("use_dora", c.useDora());
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

    /** Refuses an adapter whose recorded base fingerprint is not the one of the folder {@code model} came from. */
    private static void checkBase(Path dir, String recorded, CausalLM model) throws JtuneException {
        var source = Architectures.sourceOf(model);
        if (recorded == null || source.isEmpty()) return; // a PEFT-made adapter, or a model built in memory
        String actual = ModelFingerprint.of(source.get());
        if (actual.equals(recorded)) return;
        String named;
        try {
            named = JSON.readTree(dir.resolve(CONFIG_FILE).toFile()).path("base_model_name_or_path").asText("?");
        } catch (IOException e) {
            named = "?";
        }
        throw new JtuneException(dir + " was trained on another base model (" + named + ", fingerprint " + recorded.substring(0, 12)
                + "…) than " + source.get() + " (fingerprint " + actual.substring(0, 12) + "…): its weights or config.json differ. "
                + "Load the adapter on the base it was trained on, or pass --allow-base-mismatch if the difference is intended");
    }

    /** Reads adapter_config.json; unsupported settings are errors naming the key. */
    public static LoraConfig readConfig(Path dir) throws JtuneException {
        Path file = dir.resolve(CONFIG_FILE);
        JsonNode o;
        try {
            o = JSON.readTree(file.toFile());
        } catch (IOException e) {
            if (!Files.exists(file)) throw new JtuneException(file + " is missing: is " + dir + " a PEFT adapter folder?", e);
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? "malformed JSON at line " + (j.getLocation() == null ? "?" : j.getLocation().getLineNr()) + ": " + j.getOriginalMessage()
                    : org.jtune.io.IoErrors.reason(e);
            throw new JtuneException(file + ": " + why, e);
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
                    targets, o.path("use_rslora").asBoolean(false), tokens, o.path("use_dora").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new JtuneException(file + ": " + e.getMessage(), e);
        }
    }

    /** Loads an adapter folder onto {@code model} as the adapter named "default" and activates it; returns its config. */
    public static LoraConfig load(Path dir, CausalLM model) throws JtuneException {
        return load(dir, model, Adapters.DEFAULT);
    }

    /** As {@link #load(Path, CausalLM, String)}; it refuses an adapter trained on another base. */
    public static LoraConfig load(Path dir, CausalLM model, String name) throws JtuneException {
        return load(dir, model, name, false);
    }

    /**
     * Loads an adapter folder onto {@code model} under {@code name} (frozen, for inference or merging)
     * and makes it the active adapter. Refuses, naming the file and tensor, an adapter that does not
     * fit the model: tensors for projections the model lacks, shapes that do not fit, a rank that
     * differs from adapter_config.json's r (it would change the scale), modules outside target_modules,
     * tensors holding NaN or ±Inf, and — unless {@code allowOtherBase} — an adapter whose recorded base
     * fingerprint differs from the folder the model was loaded from.
     */
    public static LoraConfig load(Path dir, CausalLM model, String name, boolean allowOtherBase) throws JtuneException {
        if (!Files.isDirectory(dir)) throw new JtuneException(dir + ": no such adapter folder");
        LoraConfig config;
        try {
            config = readConfig(dir).resolve(model.weights().projections().stream().map(LoraLinear::name).toList(),
                    model.config().architecture());
        } catch (IllegalArgumentException e) {
            throw new JtuneException(dir.resolve(CONFIG_FILE) + ": " + e.getMessage(), e);
        }
        Path weights = dir.resolve(WEIGHTS_FILE);
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            if (!allowOtherBase) checkBase(dir, r.metadata().get(BASE_FINGERPRINT_KEY), model);
            for (String t : r.names()) {
                Tensor v = r.get(t);
                NonFinite.Found f = NonFinite.first(v);
                if (f != null) {
                    throw new JtuneException(weights + ": tensor " + t + " holds " + f.describe()
                            + ": the adapter comes from a run that diverged; it cannot be used");
                }
            }
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
                String km = key + MAGNITUDE_SUFFIX;
                Tensor m = null;
                if (config.useDora() != r.contains(km)) {
                    throw new JtuneException(weights + ": " + (config.useDora() ? km + " is missing, and " + CONFIG_FILE + " says use_dora"
                            : km + " is there, but " + CONFIG_FILE + " does not say use_dora"));
                }
                if (config.useDora()) {
                    used.add(km);
                    m = r.get(km).to(DType.F32).copy();
                    if (m.rank() != 1 || m.size(0) != b.size(0)) {
                        throw new JtuneException(weights + ": " + km + " has shape " + java.util.Arrays.toString(m.shape()) + ", expected ("
                                + b.size(0) + "), one magnitude per output row");
                    }
                }
                org.jtune.tensor.Device device = lin.weight().value().device(); // the adapter computes where its base weight lives
                pairs.put(lin.name(), new LoraPair(Variable.constant(a.to(device)), Variable.constant(b.to(device)), config.scale(), 0f,
                        m == null ? null : Variable.constant(m.to(device))));
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
                tokens = new TrainableRows(ids, Variable.constant(rows.to(model.weights().embedding().value().value().device())));
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
