package org.jtune.models.qwen2;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.models.config.ConfigFields;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.config.RopeScaling;

/**
 * Translates between config.json (Qwen2ForCausalLM, Qwen3ForCausalLM or Qwen3MoeForCausalLM) and {@link Qwen2Config}: each field's JSON type is checked, the
 * required sizes are named when missing, transformers' Qwen2Config / Qwen3Config defaults fill the rest, and what
 * the forward pass here does not implement (another activation, a RoPE scaling other than linear
 * or llama3) is refused naming the field. Errors are {@link JtuneException}s that start with the file.
 */
final class Qwen2ConfigJson {
    private static final Set<String> MODELLED = Set.of("architectures", "model_type", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "rope_scaling",
            "rms_norm_eps", "tie_word_embeddings", "use_sliding_window", "sliding_window", "max_window_layers", "layer_types",
            "max_position_embeddings", "vocab_size", "bos_token_id", "eos_token_id", "torch_dtype", "dtype", "hidden_act", "attention_bias");
    /** Qwen3-MoE's: the above and its experts' keys. */
    private static final Set<String> MODELLED_MOE = java.util.stream.Stream.concat(MODELLED.stream(), MoeConfig.QWEN3_MOE_KEYS.stream())
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private Qwen2ConfigJson() {}

    static Qwen2Config parse(String json, String source) throws JtuneException {
        ConfigFields f = ConfigFields.parse(json, source);
        String type = f.string("model_type");
        String arch = f.architecture(Qwen2Config.ARCHITECTURES, switch (type == null ? "" : type) {
            case "qwen2" -> Qwen2Config.QWEN2;
            case "qwen3" -> Qwen2Config.QWEN3;
            case "qwen3_moe" -> Qwen2Config.QWEN3_MOE;
            default -> null;
        });
        boolean qwen3 = !arch.equals(Qwen2Config.QWEN2), moe = arch.equals(Qwen2Config.QWEN3_MOE);
        if (!qwen3 && f.has("attention_bias")) throw f.error("attention_bias", "is a Qwen3 key (Qwen2's q/k/v always carry biases)");
        String act = f.string("hidden_act");
        if (act != null && !act.equals("silu")) throw f.error("hidden_act", "\"" + act + "\" is not supported (only silu, the SwiGLU activation)");
        String dtype = f.string("torch_dtype");
        if (dtype == null) dtype = f.string("dtype");
        try {
            Qwen2Config.Builder b = Qwen2Config.builder();
            if (moe) b.qwen3Moe(MoeConfig.readQwen3Moe(f));
            else if (qwen3) b.qwen3();
            b.attentionBias(qwen3 && f.bool("attention_bias", false))
                    .hiddenSize(f.requiredInt("hidden_size"))
                    .intermediateSize(f.requiredInt("intermediate_size"))
                    .numHiddenLayers(f.requiredInt("num_hidden_layers"))
                    .numAttentionHeads(f.requiredInt("num_attention_heads"))
                    .vocabSize(f.requiredInt("vocab_size"))
                    .ropeTheta(f.number("rope_theta", 10000.0))
                    .ropeScaling(RopeScaling.read(f))
                    .rmsNormEps(f.number("rms_norm_eps", 1e-6))
                    .tieWordEmbeddings(f.bool("tie_word_embeddings", false))
                    .useSlidingWindow(f.bool("use_sliding_window", false))
                    .slidingWindow(f.has("sliding_window") ? f.integer("sliding_window") : null)
                    .maxWindowLayers(f.integer("max_window_layers", 28))
                    .layerTypes(f.strings("layer_types"))
                    .maxPositionEmbeddings(f.integer("max_position_embeddings", 32768))
                    .bosTokenIds(f.ids("bos_token_id"))
                    .eosTokenIds(f.ids("eos_token_id"))
                    .torchDtype(dtype)
                    .extra(f.extra(moe ? MODELLED_MOE : MODELLED));
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

    static String toJson(Qwen2Config c) {
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
        out.put("use_sliding_window", c.useSlidingWindow());
        out.put("sliding_window", c.slidingWindowSize());
        out.put("max_window_layers", c.maxWindowLayers());
        if (c.layerTypes() != null) out.put("layer_types", c.layerTypes());
        out.put("max_position_embeddings", c.maxPositionEmbeddings());
        out.put("vocab_size", c.vocabSize());
        out.put("bos_token_id", ConfigFields.ids(c.bosTokenIds()));
        out.put("eos_token_id", ConfigFields.ids(c.eosTokenIds()));
        if (c.torchDtype() != null) out.put("torch_dtype", c.torchDtype());
        out.put("hidden_act", "silu");
        if (!c.architecture().equals(Qwen2Config.QWEN2)) out.put("attention_bias", c.attentionBias());
        if (c.moe() != null) c.moe().writeQwen3Moe(out);
        return ConfigFields.write(out);
    }
}
