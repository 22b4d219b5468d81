package org.jtune.models.arch;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.gguf.GgufModels;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.StrictJson;
import org.jtune.models.llama.LlamaArchitecture;
import org.jtune.models.gemma3.Gemma3Architecture;
import org.jtune.models.phi3.Phi3Architecture;
import org.jtune.models.qwen2.Qwen2Architecture;
import org.jtune.models.weights.QuantizeOnLoad;
import org.jtune.models.weights.WeightSource;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * The model families jtune runs, and the entry point that turns a Hugging Face folder into a
 * {@link CausalLM}: config.json's "architectures" (or "model_type") picks the family, which parses
 * the config and binds the checkpoint's tensors to its name table. A new family is one line in
 * {@link #FAMILIES}.
 */
public final class Architectures {
    private static final List<Architecture> FAMILIES = List.of(
            new LlamaArchitecture(),
            new Qwen2Architecture(),
            new Phi3Architecture(),
            new Gemma3Architecture());

    /** Largest config.json read; real ones are a few KB. */
    private static final long MAX_CONFIG_BYTES = 10_000_000L;

    private Architectures() {}

    /** The folder each model loaded by {@link #load} came from (weak keys: a closed, dropped model leaves). */
    private static final Map<CausalLM, Path> SOURCES = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /**
     * Loads config.json and the (possibly sharded) safetensors of a model folder, memory-mapped; or a GGUF file
     * (or a folder {@link GgufModels#describe} made for one), its tensors mapped in their stored types. A folder
     * saved 4-bit by bitsandbytes (config.json's quantization_config, nf4) keeps its weights NF4
     * ({@link org.jtune.models.nf4.Nf4Checkpoints#blocks}).
     */
    public static CausalLM load(Path dir) throws JtuneException {
        org.jtune.tensor.VectorApi.require(); // a clear error now, not a NoClassDefFoundError at the first forward
        if (GgufModels.isGguf(dir) || GgufModels.weightsOf(dir).isPresent()) return loadGguf(dir);
        ModelConfig config = readConfig(dir);
        SafetensorsReader reader = SafetensorsReader.open(dir);
        try {
            WeightSource weights = org.jtune.models.io.QuantizedCheckpoint.decode(reader);
            if (org.jtune.models.nf4.QuantizationConfig.read(dir) != null) weights = org.jtune.models.nf4.Nf4Checkpoints.blocks(weights);
            CausalLM model = family(config).create(config, weights, reader);
            SOURCES.put(model, dir.toAbsolutePath().normalize());
            return model;
        } catch (JtuneException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    /**
     * {@link #load}, then (when {@code quantize} is not null: q8_0, q4_0, q4_k, nf4) every projection quantized on load
     * ({@link QuantizeOnLoad}); its full-precision values are no longer read.
     */
    public static CausalLM load(Path path, String quantize) throws JtuneException {
        if (quantize != null) QuantizeOnLoad.codec(quantize); // a bad name fails before anything is mapped
        CausalLM model = load(path);
        if (quantize == null) return model;
        try {
            QuantizeOnLoad.apply(model, quantize);
            return model;
        } catch (JtuneException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static CausalLM loadGguf(Path path) throws JtuneException {
        Path file = GgufModels.isGguf(path) ? path : GgufModels.weightsOf(path).orElseThrow();
        GgufFile f = GgufReader.open(file);
        try {
            ModelConfig config = GgufModels.config(f);
            CausalLM model = family(config).create(config, GgufModels.weights(f, config), f);
            SOURCES.put(model, path.toAbsolutePath().normalize());
            return model;
        } catch (JtuneException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The folder {@code model} was loaded from by {@link #load}, if it was (adapters compare their base with it). */
    public static java.util.Optional<Path> sourceOf(CausalLM model) {
        return java.util.Optional.ofNullable(SOURCES.get(model));
    }

    /** A model over tensors already in memory (tests, a model just trained or merged). */
    public static CausalLM of(ModelConfig config, Map<String, Tensor> weights) throws JtuneException {
        return family(config).create(config, WeightSource.of(weights, "weights of a " + config.architecture()), null);
    }

    /** A freshly initialised model. */
    public static CausalLM random(ModelConfig config, Rng rng, float std) {
        return family(config).random(config, rng, std);
    }

    /** Fresh weights by Hugging Face name (to write a new checkpoint). */
    public static Map<String, Tensor> randomWeights(ModelConfig config, Rng rng, float std) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        try (CausalLM model = random(config, rng, std)) {
            for (Map.Entry<String, Variable> e : model.weights().named().entrySet()) m.put(e.getKey(), e.getValue().value());
        }
        return m;
    }

    /** Reads {@code path} (a config.json file or a folder holding one) with the parser of its family. */
    public static ModelConfig readConfig(Path path) throws JtuneException {
        if (GgufModels.isGguf(path)) {
            try (GgufFile f = GgufReader.open(path)) {
                return GgufModels.config(f);
            }
        }
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        String json;
        try {
            if (!Files.isRegularFile(file)) throw new JtuneException(file + ": no such config file");
            long size = Files.size(file);
            if (size > MAX_CONFIG_BYTES) throw new JtuneException(file + ": " + size + " bytes is too large for a config.json");
            json = Files.readString(file);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read config: " + e, e);
        }
        return parseConfig(json, file.toString());
    }

    /** Parses config.json text with the parser of the family it names. */
    public static ModelConfig parseConfig(String json, String source) throws JtuneException {
        JsonNode root;
        try {
            root = StrictJson.mapper().readTree(json);
        } catch (IOException e) {
            throw new JtuneException(source + ": malformed JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new JtuneException(source + ": config is not a JSON object");
        JsonNode archs = root.get("architectures");
        String type = root.path("model_type").isTextual() ? root.get("model_type").asText() : null;
        if (archs != null && !archs.isNull()) {
            if (!archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
                throw new JtuneException(source + ": field architectures: expected a list of names such as [\"LlamaForCausalLM\"], got " + archs);
            }
            String name = archs.get(0).asText();
            for (Architecture a : FAMILIES) if (a.architectures().contains(name)) return a.parseConfig(json, source);
            throw new JtuneException(source + ": field architectures: " + name + " is not supported (supported: "
                    + String.join(", ", supported()) + ")");
        }
        for (Architecture a : FAMILIES) if (type != null && a.modelTypes().contains(type)) return a.parseConfig(json, source);
        throw new JtuneException(source + ": field architectures: missing, and model_type " + (type == null ? "is missing too"
                : "\"" + type + "\" is not one of " + String.join(", ", modelTypes())));
    }

    /** Every architecture name a config.json may carry. */
    public static List<String> supported() {
        List<String> all = new ArrayList<>();
        for (Architecture a : FAMILIES) all.addAll(a.architectures());
        return all;
    }

    private static List<String> modelTypes() {
        List<String> all = new ArrayList<>();
        for (Architecture a : FAMILIES) all.addAll(a.modelTypes());
        return all;
    }

    private static Architecture family(ModelConfig config) {
        for (Architecture a : FAMILIES) if (a.architectures().contains(config.architecture())) return a;
        throw new IllegalArgumentException("no family for architecture " + config.architecture() + " (supported: "
                + String.join(", ", supported()) + ")");
    }
}
