package org.jtune.models.gemma3;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.config.RopeScaling;

/**
 * The hyper-parameters of a Gemma 3 text decoder (Gemma3ForCausalLM, model_type gemma3_text: Gemma 3 1B, and the text
 * part of the larger ones when saved as such) as its config.json gives them; names follow the JSON keys. What differs
 * from Llama: GELU (tanh) gates, RMSNorms that scale by 1 + weight, norms after attention and around the MLP too,
 * per-head q/k norms, embeddings scaled by √hidden_size, attention scaled by query_pre_attn_scalar^−½, and layers that
 * alternate between a sliding window with RoPE base rope_local_base_freq and full attention with rope_theta (and
 * rope_scaling) — {@link #layerTypes}, by default every sliding_window_pattern-th layer full. Keys not modelled are kept
 * in {@link #extra} and written back unchanged.
 *
 * @param layerTypes            "sliding_attention" or "full_attention" per layer (config.json's, or the pattern's)
 * @param finalLogitSoftcapping null: none; else logits = cap·tanh(logits / cap)
 */
public record Gemma3Config(
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double queryPreAttnScalar,
        double ropeTheta,
        double ropeLocalBaseFreq,
        RopeScaling ropeScaling,
        double rmsNormEps,
        int slidingWindowSize,
        List<String> layerTypes,
        Double finalLogitSoftcapping,
        boolean tieWordEmbeddings,
        int maxPositionEmbeddings,
        int vocabSize,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        Map<String, Object> extra) implements ModelConfig {

    public static final String GEMMA3 = "Gemma3ForCausalLM";
    public static final String SLIDING = "sliding_attention";
    public static final String FULL = "full_attention";

    public Gemma3Config {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("sliding_window", slidingWindowSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("vocab_size", vocabSize);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads + ") must be a multiple of num_key_value_heads ("
                    + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for rotary embeddings");
        positive("query_pre_attn_scalar", queryPreAttnScalar);
        positive("rope_theta", ropeTheta);
        positive("rope_local_base_freq", ropeLocalBaseFreq);
        positive("rms_norm_eps", rmsNormEps);
        if (finalLogitSoftcapping != null && !(finalLogitSoftcapping > 0)) {
            throw new IllegalArgumentException("final_logit_softcapping must be positive or null, got " + finalLogitSoftcapping);
        }
        layerTypes = List.copyOf(layerTypes);
        if (layerTypes.size() != numHiddenLayers) throw new IllegalArgumentException("layer_types has " + layerTypes.size() + " entries for " + numHiddenLayers + " layers");
        for (String t : layerTypes) {
            if (!t.equals(SLIDING) && !t.equals(FULL)) throw new IllegalArgumentException("layer_types: \"" + t + "\" is not " + FULL + " or " + SLIDING);
        }
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    private static void positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) throw new IllegalArgumentException(field + " must be a positive number, got " + value);
    }

    /** transformers' default layer types: every {@code pattern}-th layer full attention, the others sliding. */
    public static List<String> patternLayers(int layers, int pattern) {
        List<String> out = new java.util.ArrayList<>(layers);
        for (int i = 0; i < layers; i++) out.add((i + 1) % pattern != 0 ? SLIDING : FULL);
        return out;
    }

    /** Parses config.json text; {@code source} names it in error messages. */
    public static Gemma3Config parse(String json, String source) throws JtuneException {
        return Gemma3ConfigJson.parse(json, source);
    }

    @Override
    public String architecture() {
        return GEMMA3;
    }

    /** Whether layer {@code l} attends within the sliding window (with the local RoPE base). */
    public boolean sliding(int l) {
        return layerTypes.get(l).equals(SLIDING);
    }

    /** The attention window of layer {@code l} in tokens, 0 for full attention. */
    public int layerWindow(int l) {
        return sliding(l) ? slidingWindowSize : 0;
    }

    /** The window when every layer slides; null otherwise. */
    @Override
    public Integer slidingWindow() {
        return layerTypes.contains(FULL) ? null : slidingWindowSize;
    }

    @Override
    public boolean qkNorm() {
        return true;
    }

    /**
     * Beyond a Llama layer: the q/k norms' inputs (q + kv), the inputs of the norms after attention and after the MLP
     * (2·hidden), and the GELU's output beside its input (one more MLP width: the gate is not fused as SwiGLU is). The
     * queries scaled for query_pre_attn_scalar replace the rotated ones (neither scale nor RoPE keeps its input).
     */
    @Override
    public long extraSavedValuesPerToken(long intermediate) {
        return queryDim() + keyValueDim() + 2L * hiddenSize + intermediate;
    }

    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    public int keyValueDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public String toJson() {
        return Gemma3ConfigJson.toJson(this);
    }

    @Override
    public void write(Path file) throws JtuneException {
        AtomicFile.writeString(file, toJson());
    }
}
