package org.jtune.models.qwen2;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.config.MoeConfig;
import org.jtune.models.config.RopeScaling;

/**
 * The hyper-parameters of a Qwen2 / Qwen2.5 decoder (Qwen2ForCausalLM), a dense Qwen3 decoder
 * (Qwen3ForCausalLM) or a Qwen3 mixture of experts (Qwen3MoeForCausalLM: Qwen3's attention, {@link #moe} experts in place
 * of the MLP in its sparse layers) as its config.json gives them; names follow the JSON keys. What differs from Llama:
 * Qwen2's q/k/v projections carry biases; Qwen3 has biases on q/k/v/o only when {@code attention_bias},
 * normalises each query and key head (RMSNorm over head_dim, {@link #qkNorm}) before RoPE, and its
 * head_dim defaults to 128, not hidden/heads. In both the sliding window is set per layer — transformers' Qwen2Config turns {@code sliding_window} off unless
 * {@code use_sliding_window}, and then makes layers {@code i >= max_window_layers} "sliding_attention"
 * unless config.json lists {@code layer_types} itself ({@link #layerWindow}). Keys the record does not
 * model are kept in {@link #extra} and written back unchanged.
 *
 * @param slidingWindow  config.json's sliding_window as written (it applies only where {@link #layerWindow} says)
 * @param layerTypes     config.json's layer_types ("full_attention" / "sliding_attention" per layer), or null
 * @param ropeScaling    null for plain RoPE
 * @param moe            the experts of Qwen3MoeForCausalLM, null for the dense architectures
 */
public record Qwen2Config(
        String architecture,
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double ropeTheta,
        RopeScaling ropeScaling,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        boolean useSlidingWindow,
        Integer slidingWindowSize,
        int maxWindowLayers,
        List<String> layerTypes,
        int maxPositionEmbeddings,
        int vocabSize,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        boolean attentionBias,
        MoeConfig moe,
        Map<String, Object> extra) implements ModelConfig {

    public static final String QWEN2 = "Qwen2ForCausalLM";
    public static final String QWEN3 = "Qwen3ForCausalLM";
    public static final String QWEN3_MOE = "Qwen3MoeForCausalLM";
    public static final List<String> ARCHITECTURES = List.of(QWEN2, QWEN3, QWEN3_MOE);
    public static final String SLIDING = "sliding_attention";
    public static final String FULL = "full_attention";
    static final Set<String> TORCH_DTYPES = Set.of("float32", "float16", "bfloat16");

    public Qwen2Config {
        if (!ARCHITECTURES.contains(architecture)) {
            throw new IllegalArgumentException("architectures: " + architecture + " is not one of " + ARCHITECTURES);
        }
        if ((moe != null) != QWEN3_MOE.equals(architecture)) {
            throw new IllegalArgumentException(QWEN3_MOE.equals(architecture) ? "a Qwen3-MoE config needs its experts" : architecture + " has no experts");
        }
        if (QWEN2.equals(architecture) && attentionBias) throw new IllegalArgumentException("attention_bias is a Qwen3 key");
        if (modelType == null || modelType.isBlank()) throw new IllegalArgumentException("model_type must be set");
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("vocab_size", vocabSize);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads + ") must be a multiple of num_key_value_heads ("
                    + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for rotary embeddings");
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) throw new IllegalArgumentException("rope_theta must be a positive number, got " + ropeTheta);
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) throw new IllegalArgumentException("rms_norm_eps must be a positive number, got " + rmsNormEps);
        if (slidingWindowSize != null) positive("sliding_window", slidingWindowSize);
        if (useSlidingWindow && slidingWindowSize == null) throw new IllegalArgumentException("use_sliding_window is true but sliding_window is not set");
        if (maxWindowLayers < 0) throw new IllegalArgumentException("max_window_layers must not be negative, got " + maxWindowLayers);
        if (layerTypes != null) {
            layerTypes = List.copyOf(layerTypes);
            if (layerTypes.size() != numHiddenLayers) {
                throw new IllegalArgumentException("layer_types has " + layerTypes.size() + " entries for " + numHiddenLayers + " layers");
            }
            for (String t : layerTypes) {
                if (!t.equals(SLIDING) && !t.equals(FULL)) {
                    throw new IllegalArgumentException("layer_types: \"" + t + "\" is not " + FULL + " or " + SLIDING);
                }
            }
        }
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
        if (torchDtype != null && !TORCH_DTYPES.contains(torchDtype)) {
            throw new IllegalArgumentException("torch_dtype '" + torchDtype + "' is not one of " + TORCH_DTYPES);
        }
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    /** Parses config.json text; {@code source} names it in error messages. */
    public static Qwen2Config parse(String json, String source) throws JtuneException {
        return Qwen2ConfigJson.parse(json, source);
    }

    /**
     * The attention window of layer {@code l} in tokens, 0 for full attention: as transformers'
     * Qwen2Config, the window is config.sliding_window only when use_sliding_window, and it applies to
     * the layers listed as sliding_attention (by default those with index >= max_window_layers).
     */
    public int layerWindow(int l) {
        if (!useSlidingWindow || slidingWindowSize == null) return 0;
        boolean sliding = layerTypes != null ? layerTypes.get(l).equals(SLIDING) : l >= maxWindowLayers;
        return sliding ? slidingWindowSize : 0;
    }

    /** The window when every layer slides (what a single-window consumer may assume); null otherwise. */
    @Override
    public Integer slidingWindow() {
        for (int l = 0; l < numHiddenLayers; l++) if (layerWindow(l) == 0) return null;
        return slidingWindowSize;
    }

    /** Qwen3: each query and key head goes through its own RMSNorm (q_norm, k_norm over head_dim) before RoPE. */
    @Override
    public boolean qkNorm() {
        return !QWEN2.equals(architecture);
    }

    /** Whether q/k/v carry biases: always in Qwen2, with attention_bias in Qwen3. */
    public boolean qkvBias() {
        return QWEN2.equals(architecture) || attentionBias;
    }

    /** Whether o_proj carries a bias: Qwen3 with attention_bias (Qwen2's o_proj never has one). */
    public boolean outputBias() {
        return !QWEN2.equals(architecture) && attentionBias;
    }

    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    public int keyValueDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public String toJson() {
        return Qwen2ConfigJson.toJson(this);
    }

    @Override
    public void write(Path file) throws JtuneException {
        AtomicFile.writeString(file, toJson());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a config in code (tests, tiny models) with transformers' Qwen2Config (or, after
     * {@link Builder#qwen3}, Qwen3Config) defaults; the sizes and the vocabulary must be set.
     * numKeyValueHeads defaults to the query heads, headDim to hidden/heads (Qwen3: 128).
     */
    public static final class Builder {
        private String architecture = QWEN2;
        private boolean attentionBias;
        private int hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, vocabSize, numKeyValueHeads, headDim;
        private double ropeTheta = 10000.0;
        private RopeScaling ropeScaling;
        private double rmsNormEps = 1e-6;
        private boolean tieWordEmbeddings;
        private boolean useSlidingWindow;
        private Integer slidingWindow = 4096;
        private int maxWindowLayers = 28;
        private List<String> layerTypes;
        private int maxPositionEmbeddings = 32768;
        private List<Integer> bosTokenIds = List.of();
        private List<Integer> eosTokenIds = List.of();
        private String modelType = "qwen2";
        private String torchDtype;
        private MoeConfig moe;
        private Map<String, Object> extra = Map.of();

        private Builder() {}

        /** A Qwen3ForCausalLM config (model_type qwen3, head_dim 128 unless set). */
        public Builder qwen3() {
            architecture = QWEN3;
            modelType = "qwen3";
            return this;
        }

        /** A Qwen3MoeForCausalLM config (model_type qwen3_moe) with these experts; head_dim defaults to hidden/heads, as there. */
        public Builder qwen3Moe(MoeConfig experts) {
            architecture = QWEN3_MOE;
            modelType = "qwen3_moe";
            moe = experts;
            return this;
        }

        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder ropeScaling(RopeScaling v) { ropeScaling = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder useSlidingWindow(boolean v) { useSlidingWindow = v; return this; }
        public Builder slidingWindow(Integer v) { slidingWindow = v; return this; }
        public Builder maxWindowLayers(int v) { maxWindowLayers = v; return this; }
        public Builder layerTypes(List<String> v) { layerTypes = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder bosTokenIds(List<Integer> v) { bosTokenIds = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder modelType(String v) { modelType = v; return this; }
        public Builder torchDtype(String v) { torchDtype = v; return this; }
        public Builder extra(Map<String, Object> v) { extra = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }

        public Qwen2Config build() {
            int kv = numKeyValueHeads > 0 ? numKeyValueHeads : numAttentionHeads;
            int hd = headDim;
            if (hd == 0 && architecture.equals(QWEN3)) hd = 128;
            if (hd == 0 && numAttentionHeads > 0) {
                if (hiddenSize % numAttentionHeads != 0) {
                    throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not divisible by num_attention_heads ("
                            + numAttentionHeads + ") and head_dim is not given");
                }
                hd = hiddenSize / numAttentionHeads;
            }
            return new Qwen2Config(architecture, modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, kv, hd, ropeTheta,
                    ropeScaling, rmsNormEps, tieWordEmbeddings, useSlidingWindow, slidingWindow, maxWindowLayers, layerTypes,
                    maxPositionEmbeddings, vocabSize, bosTokenIds, eosTokenIds, torchDtype, attentionBias, moe, extra);
        }
    }
}
