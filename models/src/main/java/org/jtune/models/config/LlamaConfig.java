package org.jtune.models.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;

/**
 * The hyper-parameters of a Llama-family decoder (Llama 1/2/3, TinyLlama, SmolLM, Mistral), as a
 * Hugging Face config.json gives them; names follow the JSON keys. Construction validates: sizes
 * positive, query heads a multiple of key/value heads, an even head dimension (RoPE rotates pairs),
 * a supported architecture and a plausible RoPE setup. Read one with {@link #load}, write one back
 * with {@link #toJson} (keys this record does not model are kept in {@link #extra} and written back
 * unchanged, so a merged or exported model keeps its config). Build one in code with
 * {@link #builder()}.
 *
 * @param architecture        {@link #LLAMA}, {@link #MISTRAL}, {@link #MIXTRAL} (Mistral with a {@link #moe} mixture of
 *                            experts in place of every MLP), {@link #SMOLLM3} (a Llama whose every fourth layer, by
 *                            default, attends without RoPE: {@link #noRopeLayers}) or {@link #GRANITE} (a Llama with the
 *                            four {@link #granite} scalars)
 * @param intermediateSize    the MLP's width; Mixtral's experts' width
 * @param numKeyValueHeads    key/value heads (grouped-query attention); equals the query heads for MHA
 * @param headDim             per-head width; hidden/heads unless config.json sets head_dim explicitly
 * @param ropeScaling         null for plain RoPE
 * @param slidingWindow       attention window in tokens (Mistral), null for full causal attention
 * @param bosTokenIds         begin-of-sequence ids (config.json may give a number or a list), possibly empty
 * @param eosTokenIds         end-of-sequence ids, possibly empty
 * @param torchDtype          the checkpoint's dtype name ("bfloat16", "float16", "float32") or null
 * @param noRopeLayers        SmolLM3's no_rope_layers: per layer 1 (rotate queries and keys) or 0 (no position encoding);
 *                            null for the other architectures (every layer rotates)
 * @param moe                 Mixtral's experts (num_local_experts, num_experts_per_tok), null for the dense architectures
 * @param granite             Granite's multipliers, null for the other architectures
 * @param extra               every other config.json key, in JSON form (maps, lists, strings, numbers, booleans, nulls)
 */
public record LlamaConfig(
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
        Integer slidingWindow,
        int maxPositionEmbeddings,
        int vocabSize,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        List<Integer> noRopeLayers,
        MoeConfig moe,
        GraniteScales granite,
        Map<String, Object> extra) implements ModelConfig {

    public static final String LLAMA = "LlamaForCausalLM";
    public static final String MISTRAL = "MistralForCausalLM";
    public static final String SMOLLM3 = "SmolLM3ForCausalLM";
    public static final String MIXTRAL = "MixtralForCausalLM";
    public static final String GRANITE = "GraniteForCausalLM";
    /** Architectures this record can describe. */
    public static final List<String> SUPPORTED_ARCHITECTURES = List.of(LLAMA, MISTRAL, MIXTRAL, SMOLLM3, GRANITE);
    /** Values accepted for torch_dtype. */
    public static final Set<String> TORCH_DTYPES = Set.of("float32", "float16", "bfloat16");

    public LlamaConfig {
        if (!SUPPORTED_ARCHITECTURES.contains(architecture)) {
            throw new IllegalArgumentException("architectures: " + architecture + " is not supported (supported: "
                    + String.join(", ", SUPPORTED_ARCHITECTURES) + ")");
        }
        if (modelType == null || modelType.isBlank()) throw new IllegalArgumentException("model_type must be set");
        if ((moe != null) != architecture.equals(MIXTRAL)) {
            throw new IllegalArgumentException(architecture.equals(MIXTRAL) ? "a Mixtral config needs its experts" : architecture + " has no experts");
        }
        if ((granite != null) != architecture.equals(GRANITE)) {
            throw new IllegalArgumentException(architecture.equals(GRANITE) ? "a Granite config needs its multipliers" : architecture + " has no Granite multipliers");
        }
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("vocab_size", vocabSize);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for rotary embeddings");
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be a positive number, got " + ropeTheta);
        }
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps must be a positive number, got " + rmsNormEps);
        }
        if (slidingWindow != null) positive("sliding_window", slidingWindow);
        bosTokenIds = List.copyOf(bosTokenIds);
        eosTokenIds = List.copyOf(eosTokenIds);
        for (int id : bosTokenIds) if (id < 0) throw new IllegalArgumentException("bos_token_id " + id + " is negative");
        for (int id : eosTokenIds) if (id < 0) throw new IllegalArgumentException("eos_token_id " + id + " is negative");
        if (torchDtype != null && !TORCH_DTYPES.contains(torchDtype)) {
            throw new IllegalArgumentException("torch_dtype '" + torchDtype + "' is not one of " + TORCH_DTYPES);
        }
        if (noRopeLayers != null) {
            if (!architecture.equals(SMOLLM3)) throw new IllegalArgumentException("no_rope_layers is a SmolLM3 key");
            noRopeLayers = List.copyOf(noRopeLayers);
            if (noRopeLayers.size() != numHiddenLayers) {
                throw new IllegalArgumentException("no_rope_layers has " + noRopeLayers.size() + " entries for " + numHiddenLayers + " layers");
            }
            for (int v : noRopeLayers) if (v != 0 && v != 1) throw new IllegalArgumentException("no_rope_layers holds " + v + "; only 0 and 1");
        }
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    /** Whether layer {@code l} rotates its queries and keys (SmolLM3 leaves some layers without position encoding). */
    public boolean rotates(int l) {
        return noRopeLayers == null || noRopeLayers.get(l) == 1;
    }

    /** SmolLM3's default no_rope_layers: every {@code interval}-th layer without RoPE, as transformers' SmolLM3Config makes it. */
    public static List<Integer> noRopeEvery(int layers, int interval) {
        List<Integer> out = new java.util.ArrayList<>(layers);
        for (int i = 0; i < layers; i++) out.add((i + 1) % interval != 0 ? 1 : 0);
        return out;
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    /** Reads {@code path}: a config.json file, or a model folder holding one. */
    public static LlamaConfig load(Path path) throws JtuneException {
        return LlamaConfigJson.read(path);
    }

    /** Parses config.json text; {@code source} names it in error messages. */
    public static LlamaConfig parse(String json, String source) throws JtuneException {
        return LlamaConfigJson.parse(json, source);
    }

    /** This config as config.json text (sorted keys, two-space indent), including the {@link #extra} keys. */
    public String toJson() {
        return LlamaConfigJson.toJson(this);
    }

    /** Writes {@link #toJson()} to {@code file} through a temporary file and an atomic rename. */
    public void write(Path file) throws JtuneException {
        org.jtune.io.AtomicFile.writeString(file, toJson());
    }

    /** Whether config.json carries a sliding_window (Mistral and Mixtral; null there means full attention). */
    public boolean hasWindowKey() {
        return architecture.equals(MISTRAL) || architecture.equals(MIXTRAL);
    }

    /** Query heads sharing one key/value head. */
    public int queriesPerKeyValueHead() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Width of the query projection output: heads × head_dim. */
    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    /** Width of each of the key and value projection outputs: kv heads × head_dim. */
    public int keyValueDim() {
        return numKeyValueHeads * headDim;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.architecture = architecture;
        b.modelType = modelType;
        b.hiddenSize = hiddenSize;
        b.intermediateSize = intermediateSize;
        b.numHiddenLayers = numHiddenLayers;
        b.numAttentionHeads = numAttentionHeads;
        b.numKeyValueHeads = numKeyValueHeads;
        b.headDim = headDim;
        b.ropeTheta = ropeTheta;
        b.ropeScaling = ropeScaling;
        b.rmsNormEps = rmsNormEps;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.slidingWindow = slidingWindow;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.vocabSize = vocabSize;
        b.bosTokenIds = bosTokenIds;
        b.eosTokenIds = eosTokenIds;
        b.torchDtype = torchDtype;
        b.noRopeLayers = noRopeLayers;
        b.moe = moe;
        b.granite = granite;
        b.extra = extra;
        return b;
    }

    /**
     * Builds a config in code (tests, tiny models). Defaults are Hugging Face's LlamaConfig defaults
     * where they exist; the four sizes and the vocabulary must be set. numKeyValueHeads defaults to
     * the query heads, headDim to hidden/heads.
     */
    public static final class Builder {
        private String architecture = LLAMA;
        private String modelType;
        private int hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, vocabSize;
        private int numKeyValueHeads; // 0: same as numAttentionHeads
        private int headDim; // 0: hiddenSize / numAttentionHeads
        private double ropeTheta = 10000.0;
        private RopeScaling ropeScaling;
        private double rmsNormEps = 1e-6;
        private boolean tieWordEmbeddings;
        private Integer slidingWindow;
        private int maxPositionEmbeddings = 2048;
        private List<Integer> bosTokenIds = List.of(1);
        private List<Integer> eosTokenIds = List.of(2);
        private String torchDtype;
        private List<Integer> noRopeLayers;
        private MoeConfig moe;
        private GraniteScales granite;
        private Map<String, Object> extra = Map.of();

        private Builder() {}

        public Builder architecture(String v) { architecture = v; return this; }
        public Builder modelType(String v) { modelType = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder ropeScaling(RopeScaling v) { ropeScaling = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder slidingWindow(Integer v) { slidingWindow = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder bosTokenIds(List<Integer> v) { bosTokenIds = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder torchDtype(String v) { torchDtype = v; return this; }
        public Builder extra(Map<String, Object> v) { extra = v; return this; }
        public Builder noRopeLayers(List<Integer> v) { noRopeLayers = v; return this; }
        public Builder moe(MoeConfig v) { moe = v; return this; }
        public Builder granite(GraniteScales v) { granite = v; return this; }

        /** The validated config; IllegalArgumentException naming the config.json field when a value is wrong. */
        public LlamaConfig build() {
            int kv = numKeyValueHeads > 0 ? numKeyValueHeads : numAttentionHeads;
            int hd = headDim;
            if (hd == 0 && numAttentionHeads > 0) {
                if (hiddenSize % numAttentionHeads != 0) {
                    throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not divisible by num_attention_heads ("
                            + numAttentionHeads + ") and head_dim is not given");
                }
                hd = hiddenSize / numAttentionHeads;
            }
            String type = modelType != null ? modelType : switch (architecture) {
                case MISTRAL -> "mistral";
                case MIXTRAL -> "mixtral";
                case SMOLLM3 -> "smollm3";
                case GRANITE -> "granite";
                default -> "llama";
            };
            return new LlamaConfig(architecture, type, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, kv,
                    hd, ropeTheta, ropeScaling, rmsNormEps, tieWordEmbeddings, slidingWindow, maxPositionEmbeddings,
                    vocabSize, bosTokenIds, eosTokenIds, torchDtype, noRopeLayers, moe, granite, extra);
        }
    }
}
