package org.jtune.models.phi3;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.models.config.ConfigFields;

/**
 * Translates between config.json and {@link Phi3Config}: each field's JSON type is checked, the
 * required sizes are named when missing, transformers' Phi3Config defaults fill the rest, and what the
 * forward pass here does not implement (another activation, attention biases, a RoPE scaling other
 * than longrope/su) is refused naming the field. Errors are {@link JtuneException}s that start with the file.
 */
final class Phi3ConfigJson {
    private static final Set<String> MODELLED = Set.of("architectures", "model_type", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "rope_scaling",
            "partial_rotary_factor", "original_max_position_embeddings", "rms_norm_eps", "tie_word_embeddings", "sliding_window",
            "max_position_embeddings", "vocab_size", "bos_token_id", "eos_token_id", "torch_dtype", "dtype", "hidden_act",
            "attention_bias");

    private Phi3ConfigJson() {}

    static Phi3Config parse(String json, String source) throws JtuneException {
        ConfigFields f = ConfigFields.parse(json, source);
        f.architecture(List.of(Phi3Config.PHI3), "phi3".equals(f.string("model_type")) ? Phi3Config.PHI3 : null);
        String act = f.string("hidden_act");
        if (act != null && !act.equals("silu")) throw f.error("hidden_act", "\"" + act + "\" is not supported (only silu, the SwiGLU activation)");
        if (Boolean.TRUE.equals(f.bool("attention_bias"))) throw f.error("attention_bias", "true is not supported (Phi-3 projections have no bias)");
        String dtype = f.string("torch_dtype");
        if (dtype == null) dtype = f.string("dtype");
        ConfigFields rope = f.object("rope_scaling");
        Integer original = f.integer("original_max_position_embeddings");
        if (original == null && rope != null) original = rope.integer("original_max_position_embeddings");
        try {
            Phi3Config.Builder b = Phi3Config.builder()
                    .hiddenSize(f.requiredInt("hidden_size"))
                    .intermediateSize(f.requiredInt("intermediate_size"))
                    .numHiddenLayers(f.requiredInt("num_hidden_layers"))
                    .numAttentionHeads(f.requiredInt("num_attention_heads"))
                    .vocabSize(f.requiredInt("vocab_size"))
                    .ropeTheta(f.number("rope_theta", 10000.0))
                    .longRope(longRope(f, rope))
                    .partialRotaryFactor(f.number("partial_rotary_factor", 1.0))
                    .originalMaxPositionEmbeddings(original)
                    .rmsNormEps(f.number("rms_norm_eps", 1e-5))
                    .tieWordEmbeddings(f.bool("tie_word_embeddings", false))
                    .slidingWindow(f.integer("sliding_window"))
                    .maxPositionEmbeddings(f.integer("max_position_embeddings", 4096))
                    .bosTokenIds(f.has("bos_token_id") ? f.ids("bos_token_id") : List.of(1))
                    .eosTokenIds(f.has("eos_token_id") ? f.ids("eos_token_id") : List.of(32000))
                    .torchDtype(dtype)
                    .extra(f.extra(MODELLED));
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

    private static Phi3Config.LongRope longRope(ConfigFields f, ConfigFields r) throws JtuneException {
        if (r == null) return null;
        String type = r.string("rope_type");
        if (type == null) type = r.string("type");
        if (type == null) throw f.error("rope_scaling", "has neither rope_type nor type");
        if (type.equals("default")) return null;
        if (!type.equals("longrope") && !type.equals("su")) {
            throw f.error("rope_scaling", "type \"" + type + "\" is not supported for Phi-3 (supported: longrope, su, default)");
        }
        List<Double> s = r.numbers("short_factor"), l = r.numbers("long_factor");
        if (s == null) throw new JtuneException(f.source() + ": missing required field \"rope_scaling.short_factor\"");
        if (l == null) throw new JtuneException(f.source() + ": missing required field \"rope_scaling.long_factor\"");
        try {
            return new Phi3Config.LongRope(type, s, l, r.number("factor"), r.number("attention_factor"));
        } catch (IllegalArgumentException e) {
            throw new JtuneException(f.source() + ": " + e.getMessage(), e);
        }
    }

    static String toJson(Phi3Config c) {
        Map<String, Object> out = new TreeMap<>(c.extra());
        out.put("architectures", List.of(c.architecture()));
        out.put("model_type", c.modelType());
        out.put("hidden_size", c.hiddenSize());
        out.put("intermediate_size", c.intermediateSize());
        out.put("num_hidden_layers", c.numHiddenLayers());
        out.put("num_attention_heads", c.numAttentionHeads());
        out.put("num_key_value_heads", c.numKeyValueHeads());
        if (c.headDim() * c.numAttentionHeads() != c.hiddenSize()) out.put("head_dim", c.headDim());
        out.put("rope_theta", c.ropeTheta());
        Phi3Config.LongRope r = c.longRope();
        if (r == null) out.put("rope_scaling", null);
        else {
            Map<String, Object> rope = new LinkedHashMap<>();
            rope.put("type", r.type());
            rope.put("short_factor", r.shortFactor());
            rope.put("long_factor", r.longFactor());
            if (r.factor() != null) rope.put("factor", r.factor());
            if (r.attentionFactor() != null) rope.put("attention_factor", r.attentionFactor());
            out.put("rope_scaling", rope);
        }
        if (c.partialRotaryFactor() != 1.0) out.put("partial_rotary_factor", c.partialRotaryFactor());
        if (c.originalMaxPositionEmbeddings() != null) out.put("original_max_position_embeddings", c.originalMaxPositionEmbeddings());
        out.put("rms_norm_eps", c.rmsNormEps());
        out.put("tie_word_embeddings", c.tieWordEmbeddings());
        out.put("sliding_window", c.slidingWindow());
        out.put("max_position_embeddings", c.maxPositionEmbeddings());
        out.put("vocab_size", c.vocabSize());
        out.put("bos_token_id", ConfigFields.ids(c.bosTokenIds()));
        out.put("eos_token_id", ConfigFields.ids(c.eosTokenIds()));
        if (c.torchDtype() != null) out.put("torch_dtype", c.torchDtype());
        out.put("hidden_act", "silu");
        out.put("attention_bias", false);
        return ConfigFields.write(out);
    }
}
