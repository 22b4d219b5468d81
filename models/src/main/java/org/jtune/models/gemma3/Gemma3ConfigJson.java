package org.jtune.models.gemma3;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jtune.JtuneException;
import org.jtune.models.config.ConfigFields;
import org.jtune.models.config.RopeScaling;

/**
 * Translates between config.json and {@link Gemma3Config}: each field's JSON type is checked, the required sizes are
 * named when missing, transformers' Gemma3TextConfig defaults fill the rest, and what the forward pass here does not
 * implement (another activation, attention logit soft-capping, a RoPE scaling other than linear or llama3) is refused
 * naming the field. Errors are {@link JtuneException}s that start with the file.
 */
final class Gemma3ConfigJson {
    private static final Set<String> MODELLED = Set.of("architectures", "model_type", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "query_pre_attn_scalar", "rope_theta",
            "rope_local_base_freq", "rope_scaling", "rms_norm_eps", "sliding_window", "sliding_window_pattern", "layer_types",
            "final_logit_softcapping", "attn_logit_softcapping", "tie_word_embeddings", "max_position_embeddings", "vocab_size",
            "bos_token_id", "eos_token_id", "torch_dtype", "dtype", "hidden_activation", "hidden_act", "attention_bias");

    private Gemma3ConfigJson() {}

    static Gemma3Config parse(String json, String source) throws JtuneException {
        ConfigFields f = ConfigFields.parse(json, source);
        f.architecture(List.of(Gemma3Config.GEMMA3), "gemma3_text".equals(f.string("model_type")) ? Gemma3Config.GEMMA3 : null);
        String act = f.string("hidden_activation");
        if (act == null) act = f.string("hidden_act");
        if (act != null && !act.equals("gelu_pytorch_tanh")) {
            throw f.error(f.has("hidden_activation") ? "hidden_activation" : "hidden_act", "\"" + act + "\" is not supported (only gelu_pytorch_tanh)");
        }
        if (f.has("attn_logit_softcapping") && f.number("attn_logit_softcapping") != null) {
            throw f.error("attn_logit_softcapping", "soft-capped attention logits (Gemma 2) are not supported");
        }
        if (f.bool("attention_bias", false)) throw f.error("attention_bias", "attention biases are not supported for Gemma 3");
        String dtype = f.string("torch_dtype");
        if (dtype == null) dtype = f.string("dtype");
        try {
            int layers = f.requiredInt("num_hidden_layers"), heads = f.requiredInt("num_attention_heads");
            int headDim = f.integer("head_dim", 256);
            List<String> types = f.strings("layer_types");
            if (types == null) types = Gemma3Config.patternLayers(layers, f.integer("sliding_window_pattern", 6));
            return new Gemma3Config(f.string("model_type") != null ? f.string("model_type") : "gemma3_text", f.requiredInt("hidden_size"),
                    f.requiredInt("intermediate_size"), layers, heads, f.integer("num_key_value_heads", heads), headDim,
                    f.number("query_pre_attn_scalar", headDim), f.number("rope_theta", 1_000_000.0), f.number("rope_local_base_freq", 10_000.0),
                    RopeScaling.read(f), f.number("rms_norm_eps", 1e-6), f.integer("sliding_window", 4096), types, f.number("final_logit_softcapping"),
                    f.bool("tie_word_embeddings", true), f.integer("max_position_embeddings", 131072), f.requiredInt("vocab_size"),
                    f.has("bos_token_id") ? f.ids("bos_token_id") : List.of(2), f.has("eos_token_id") ? f.ids("eos_token_id") : List.of(1),
                    dtype, f.extra(MODELLED));
        } catch (IllegalArgumentException e) {
            throw new JtuneException(source + ": " + e.getMessage(), e);
        }
    }

    static String toJson(Gemma3Config c) {
        Map<String, Object> out = new TreeMap<>(c.extra());
        out.put("architectures", List.of(Gemma3Config.GEMMA3));
        out.put("model_type", c.modelType());
        out.put("hidden_size", c.hiddenSize());
        out.put("intermediate_size", c.intermediateSize());
        out.put("num_hidden_layers", c.numHiddenLayers());
        out.put("num_attention_heads", c.numAttentionHeads());
        out.put("num_key_value_heads", c.numKeyValueHeads());
        out.put("head_dim", c.headDim());
        out.put("query_pre_attn_scalar", c.queryPreAttnScalar());
        out.put("rope_theta", c.ropeTheta());
        out.put("rope_local_base_freq", c.ropeLocalBaseFreq());
        out.put("rope_scaling", RopeScaling.toJson(c.ropeScaling()));
        out.put("rms_norm_eps", c.rmsNormEps());
        out.put("sliding_window", c.slidingWindowSize());
        out.put("layer_types", c.layerTypes());
        out.put("final_logit_softcapping", c.finalLogitSoftcapping());
        out.put("attn_logit_softcapping", null);
        out.put("tie_word_embeddings", c.tieWordEmbeddings());
        out.put("max_position_embeddings", c.maxPositionEmbeddings());
        out.put("vocab_size", c.vocabSize());
        out.put("bos_token_id", ConfigFields.ids(c.bosTokenIds()));
        out.put("eos_token_id", ConfigFields.ids(c.eosTokenIds()));
        if (c.torchDtype() != null) out.put("torch_dtype", c.torchDtype());
        out.put("hidden_activation", "gelu_pytorch_tanh");
        return ConfigFields.write(out);
    }
}
