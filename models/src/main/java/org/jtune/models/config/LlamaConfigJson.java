package org.jtune.models.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.models.io.StrictJson;

/**
 * Translates between config.json and {@link LlamaConfig}. Reading checks each field's JSON type,
 * names a missing required field (hidden_size, intermediate_size, num_hidden_layers,
 * num_attention_heads, vocab_size), fills Hugging Face's defaults for the rest, and refuses what the
 * Llama/Mistral forward pass here does not implement (other architectures, activations, biases,
 * RoPE scalings) with a message naming the field and listing what is supported. Every error is a
 * {@link JtuneException} that starts with the file. Parsing is bounded like every untrusted JSON
 * ({@link StrictJson}: duplicate keys rejected, nesting and lengths limited).
 */
final class LlamaConfigJson {
    /** Largest config.json read; real ones are a few KB. */
    static final long MAX_BYTES = 10_000_000L;

    private static final Set<String> MODELLED = Set.of("architectures", "model_type", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "rope_scaling",
            "rms_norm_eps", "tie_word_embeddings", "max_position_embeddings", "vocab_size", "bos_token_id",
            "eos_token_id", "torch_dtype", "dtype", "attention_bias", "mlp_bias", "hidden_act");
    /** Mixtral's experts (router_jitter_noise, a training-time perturbation of the router's input, is kept but not applied). */
    private static final Set<String> MIXTRAL_MODELLED = Set.of("num_local_experts", "num_experts_per_tok");
    /** Granite's multipliers. */
    private static final Set<String> GRANITE_MODELLED = Set.of("embedding_multiplier", "residual_multiplier", "attention_multiplier", "logits_scaling");
    /** SmolLM3's own keys (its windows: only use_sliding_window false is supported). */
    private static final Set<String> SMOLLM3_MODELLED = Set.of("no_rope_layers", "no_rope_layer_interval", "use_sliding_window", "sliding_window");

    private LlamaConfigJson() {}

    static LlamaConfig read(Path path) throws JtuneException {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        try {
            if (!Files.isRegularFile(file)) throw new JtuneException(file + ": no such config file");
            long size = Files.size(file);
            if (size > MAX_BYTES) throw new JtuneException(file + ": " + size + " bytes is too large for a config.json");
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read config: " + e, e);
        }
    }

    static LlamaConfig parse(String json, String source) throws JtuneException {
        JsonNode root;
        try {
            root = StrictJson.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new JtuneException(source + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new JtuneException(source + ": config is not a JSON object");
        Fields f = new Fields(root, source);

        String architecture = architecture(f);
        boolean mixtral = architecture.equals(LlamaConfig.MIXTRAL), mistral = architecture.equals(LlamaConfig.MISTRAL) || mixtral;
        String act = f.string("hidden_act");
        if (act != null && !act.equals("silu")) {
            throw f.error("hidden_act", "\"" + act + "\" is not supported (only silu, the SwiGLU activation)");
        }
        for (String bias : List.of("attention_bias", "mlp_bias")) {
            if (Boolean.TRUE.equals(f.bool(bias))) {
                throw f.error(bias, "true is not supported (Llama/Mistral projections without bias only)");
            }
        }
        String dtype = f.string("torch_dtype");
        if (dtype == null) dtype = f.string("dtype");

        boolean smollm3 = architecture.equals(LlamaConfig.SMOLLM3);
        List<Integer> noRope = null;
        if (smollm3) {
            if (Boolean.TRUE.equals(f.bool("use_sliding_window"))) {
                throw f.error("use_sliding_window", "true is not supported for SmolLM3 (its released checkpoints attend fully)");
            }
            noRope = f.root.has("no_rope_layers") ? f.ids("no_rope_layers")
                    : LlamaConfig.noRopeEvery(f.requiredInt("num_hidden_layers"), f.integer("no_rope_layer_interval", 4));
        }
        Set<String> modelled = new LinkedHashSet<>(MODELLED);
        if (mistral) modelled.add("sliding_window");
        if (mixtral) modelled.addAll(MIXTRAL_MODELLED);
        boolean granite = architecture.equals(LlamaConfig.GRANITE);
        if (granite) modelled.addAll(GRANITE_MODELLED);
        if (smollm3) modelled.addAll(SMOLLM3_MODELLED);
        Map<String, Object> extra = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (!modelled.contains(e.getKey())) extra.put(e.getKey(), StrictJson.mapper().convertValue(e.getValue(), Object.class));
        }
        try {
            LlamaConfig.Builder b = LlamaConfig.builder()
                    .architecture(architecture)
                    .hiddenSize(f.requiredInt("hidden_size"))
                    .intermediateSize(f.requiredInt("intermediate_size"))
                    .numHiddenLayers(f.requiredInt("num_hidden_layers"))
                    .numAttentionHeads(f.requiredInt("num_attention_heads"))
                    .vocabSize(f.requiredInt("vocab_size"))
                    .ropeScaling(ropeScaling(f))
                    .tieWordEmbeddings(f.bool("tie_word_embeddings", false))
                    .maxPositionEmbeddings(f.integer("max_position_embeddings", mistral ? 4096 * 32 : 2048))
                    .ropeTheta(f.number("rope_theta", mixtral ? 1e6 : 10000.0))
                    .rmsNormEps(f.number("rms_norm_eps", 1e-6))
                    .bosTokenIds(f.ids("bos_token_id"))
                    .eosTokenIds(f.ids("eos_token_id"))
                    .torchDtype(dtype)
                    .slidingWindow(mistral ? f.integer("sliding_window") : null)
                    .noRopeLayers(noRope)
                    .moe(mixtral ? MoeConfig.readMixtral(new ConfigFields(f.root, f.source), f.requiredInt("intermediate_size")) : null)
                    .granite(granite ? new GraniteScales(f.number("embedding_multiplier", 1.0), f.number("residual_multiplier", 1.0),
                            f.number("attention_multiplier", 1.0), f.number("logits_scaling", 1.0)) : null)
                    .extra(extra);
            String modelType = f.string("model_type");
            if (modelType != null) b.modelType(modelType);
            Integer kv = f.integer("num_key_value_heads");
            if (kv != null) b.numKeyValueHeads(kv);
            Integer headDim = f.integer("head_dim");
            if (headDim != null) b.headDim(headDim);
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new JtuneException(source + ": " + e.getMessage(), e);
        }
    }

    private static String architecture(Fields f) throws JtuneException {
        JsonNode arch = f.root.get("architectures");
        if (arch == null || arch.isNull()) {
            String type = f.string("model_type");
            if ("llama".equals(type)) return LlamaConfig.LLAMA;
            if ("mistral".equals(type)) return LlamaConfig.MISTRAL;
            if ("mixtral".equals(type)) return LlamaConfig.MIXTRAL;
            if ("granite".equals(type)) return LlamaConfig.GRANITE;
            if ("smollm3".equals(type)) return LlamaConfig.SMOLLM3;
            throw f.error("architectures", "missing, and model_type " + (type == null ? "is missing too" : "\"" + type + "\" is not llama, mistral, mixtral, smollm3 or granite"));
        }
        if (!arch.isArray() || arch.isEmpty()) throw f.error("architectures", "must be a non-empty list of class names");
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode n : arch) {
            if (!n.isTextual()) throw f.error("architectures", "must hold strings, found " + brief(n));
            if (!LlamaConfig.SUPPORTED_ARCHITECTURES.contains(n.asText())) {
                throw f.error("architectures", n.asText() + " is not supported (supported: "
                        + String.join(", ", LlamaConfig.SUPPORTED_ARCHITECTURES) + ")");
            }
            names.add(n.asText());
        }
        if (names.size() > 1) throw f.error("architectures", "names several architectures " + names);
        return names.iterator().next();
    }

    private static RopeScaling ropeScaling(Fields f) throws JtuneException {
        JsonNode n = f.root.get("rope_scaling");
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) throw f.error("rope_scaling", "must be null or an object, found " + brief(n));
        Fields r = new Fields(n, f.source, "rope_scaling.");
        String type = r.string("rope_type");
        if (type == null) type = r.string("type");
        if (type == null) throw f.error("rope_scaling", "has neither rope_type nor type");
        return switch (type) {
            case "default" -> null;
            case "linear" -> new RopeScaling.Linear(r.requiredNumber("factor"));
            case "llama3" -> new RopeScaling.Llama3(r.requiredNumber("factor"), r.requiredNumber("low_freq_factor"),
                    r.requiredNumber("high_freq_factor"), r.requiredInt("original_max_position_embeddings"));
            default -> throw f.error("rope_scaling", "type \"" + type + "\" is not supported (supported: llama3, linear)");
        };
    }

    static String toJson(LlamaConfig c) {
        Map<String, Object> out = new TreeMap<>(c.extra());
        out.put("architectures", List.of(c.architecture()));
        out.put("model_type", c.modelType());
        out.put("hidden_size", c.hiddenSize());
        out.put("intermediate_size", c.intermediateSize());
        out.put("num_hidden_layers", c.numHiddenLayers());
        out.put("num_attention_heads", c.numAttentionHeads());
        out.put("num_key_value_heads", c.numKeyValueHeads());
        out.put("head_dim", c.headDim());
        out.put("rope_theta", c.ropeTheta());
        out.put("rope_scaling", RopeScaling.toJson(c.ropeScaling()));
        out.put("rms_norm_eps", c.rmsNormEps());
        out.put("tie_word_embeddings", c.tieWordEmbeddings());
        if (c.noRopeLayers() != null) {
            out.put("no_rope_layers", c.noRopeLayers());
            out.put("use_sliding_window", false);
        }
        if (c.hasWindowKey()) out.put("sliding_window", c.slidingWindow());
        if (c.granite() != null) {
            out.put("embedding_multiplier", c.granite().embedding());
            out.put("residual_multiplier", c.granite().residual());
            out.put("attention_multiplier", c.granite().attention());
            out.put("logits_scaling", c.granite().logits());
        }
        if (c.moe() != null) {
            out.put("num_local_experts", c.moe().numExperts());
            out.put("num_experts_per_tok", c.moe().expertsPerToken());
        }
        out.put("max_position_embeddings", c.maxPositionEmbeddings());
        out.put("vocab_size", c.vocabSize());
        out.put("bos_token_id", ids(c.bosTokenIds()));
        out.put("eos_token_id", ids(c.eosTokenIds()));
        if (c.torchDtype() != null) out.put("torch_dtype", c.torchDtype());
        out.put("attention_bias", false);
        out.put("mlp_bias", false);
        out.put("hidden_act", "silu");
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        printer.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);
        try {
            return StrictJson.mapper().writer(printer).writeValueAsString(sortedDeep(out)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise config", e);
        }
    }

    private static Object ids(List<Integer> ids) {
        return ids.isEmpty() ? null : ids.size() == 1 ? ids.getFirst() : ids;
    }

    /** Nested maps with sorted keys (Hugging Face writes config.json with sort_keys). */
    private static Object sortedDeep(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> s = new TreeMap<>();
            m.forEach((k, v) -> s.put(String.valueOf(k), sortedDeep(v)));
            return s;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object v : l) out.add(sortedDeep(v));
            return out;
        }
        return o;
    }

    static String brief(JsonNode n) {
        String s = n.toString();
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /** Typed access to the fields of one JSON object, each error naming the field and the file. */
    private static final class Fields {
        final JsonNode root;
        final String source;
        final String prefix;

        Fields(JsonNode root, String source) {
            this(root, source, "");
        }

        Fields(JsonNode root, String source, String prefix) {
            this.root = root;
            this.source = source;
            this.prefix = prefix;
        }

        JtuneException error(String field, String what) {
            return new JtuneException(source + ": field \"" + prefix + field + "\": " + what);
        }

        private JsonNode get(String field) {
            JsonNode n = root.get(field);
            return n == null || n.isNull() ? null : n;
        }

        Integer integer(String field) throws JtuneException {
            JsonNode n = get(field);
            if (n == null) return null;
            if (!n.isIntegralNumber() || !n.canConvertToInt()) throw error(field, "must be an integer, found " + brief(n));
            return n.intValue();
        }

        int integer(String field, int fallback) throws JtuneException {
            Integer v = integer(field);
            return v == null ? fallback : v;
        }

        int requiredInt(String field) throws JtuneException {
            Integer v = integer(field);
            if (v == null) throw new JtuneException(source + ": missing required field \"" + prefix + field + "\"");
            return v;
        }

        Double number(String field) throws JtuneException {
            JsonNode n = get(field);
            if (n == null) return null;
            if (!n.isNumber()) throw error(field, "must be a number, found " + brief(n));
            return n.doubleValue();
        }

        double number(String field, double fallback) throws JtuneException {
            Double v = number(field);
            return v == null ? fallback : v;
        }

        double requiredNumber(String field) throws JtuneException {
            Double v = number(field);
            if (v == null) throw new JtuneException(source + ": missing required field \"" + prefix + field + "\"");
            return v;
        }

        Boolean bool(String field) throws JtuneException {
            JsonNode n = get(field);
            if (n == null) return null;
            if (!n.isBoolean()) throw error(field, "must be true or false, found " + brief(n));
            return n.booleanValue();
        }

        boolean bool(String field, boolean fallback) throws JtuneException {
            Boolean v = bool(field);
            return v == null ? fallback : v;
        }

        String string(String field) throws JtuneException {
            JsonNode n = get(field);
            if (n == null) return null;
            if (!n.isTextual()) throw error(field, "must be a string, found " + brief(n));
            return n.asText();
        }

        /** A token id or a list of them (null or absent: none). */
        List<Integer> ids(String field) throws JtuneException {
            JsonNode n = get(field);
            if (n == null) return List.of();
            List<Integer> out = new ArrayList<>();
            for (JsonNode v : n.isArray() ? n : List.of(n)) {
                if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                    throw error(field, "must be a token id or a list of token ids, found " + brief(n));
                }
                out.add(v.intValue());
            }
            return out;
        }
    }
}
