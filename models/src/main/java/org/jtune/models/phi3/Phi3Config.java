package org.jtune.models.phi3;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.models.config.ModelConfig;

/**
 * The hyper-parameters of a Phi-3 decoder (Phi3ForCausalLM: Phi-3 / Phi-3.5 mini, Phi-4-mini) as its
 * config.json gives them; names follow the JSON keys. What differs from Llama: fused qkv_proj and
 * gate_up_proj weights, LongRoPE scaling ({@link LongRope}) against
 * {@code original_max_position_embeddings}, and an optional {@code partial_rotary_factor} (only the
 * first head_dim · factor channels of each head rotate). Keys the record does not model are kept in
 * {@link #extra} and written back unchanged.
 *
 * @param longRope                       null for plain RoPE
 * @param originalMaxPositionEmbeddings  the pre-training context LongRoPE switches at, or null when config.json has none
 * @param slidingWindow                  attention window in tokens, null for full causal attention
 */
public record Phi3Config(
        String architecture,
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        double ropeTheta,
        LongRope longRope,
        double partialRotaryFactor,
        Integer originalMaxPositionEmbeddings,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        Integer slidingWindow,
        int maxPositionEmbeddings,
        int vocabSize,
        List<Integer> bosTokenIds,
        List<Integer> eosTokenIds,
        String torchDtype,
        Map<String, Object> extra) implements ModelConfig {

    public static final String PHI3 = "Phi3ForCausalLM";
    static final Set<String> TORCH_DTYPES = Set.of("float32", "float16", "bfloat16");

    /**
     * config.json's rope_scaling of type longrope (or its older name su): per-frequency divisors of
     * the rotary frequencies for sequences up to original_max_position_embeddings (short) and beyond
     * (long), and optionally the factor and the attention factor that scales cos and sin.
     *
     * @param type            the name config.json used ("longrope" or "su"), written back as is
     * @param factor          rope_scaling.factor, or null
     * @param attentionFactor rope_scaling.attention_factor, or null
     */
    public record LongRope(String type, List<Double> shortFactor, List<Double> longFactor, Double factor, Double attentionFactor) {
        public LongRope {
            shortFactor = List.copyOf(shortFactor);
            longFactor = List.copyOf(longFactor);
            for (double f : shortFactor) if (!(f > 0) || Double.isInfinite(f)) throw new IllegalArgumentException("rope_scaling.short_factor holds " + f + "; factors must be positive");
            for (double f : longFactor) if (!(f > 0) || Double.isInfinite(f)) throw new IllegalArgumentException("rope_scaling.long_factor holds " + f + "; factors must be positive");
            if (attentionFactor != null && !(attentionFactor > 0)) throw new IllegalArgumentException("rope_scaling.attention_factor must be positive, got " + attentionFactor);
        }
    }

    public Phi3Config {
        if (!PHI3.equals(architecture)) throw new IllegalArgumentException("architectures: " + architecture + " is not " + PHI3);
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
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
            throw new IllegalArgumentException("partial_rotary_factor must be in (0, 1], got " + partialRotaryFactor);
        }
        int rotary = (int) (headDim * partialRotaryFactor);
        if (rotary <= 0 || rotary % 2 != 0) {
            throw new IllegalArgumentException("head_dim (" + headDim + ") × partial_rotary_factor (" + partialRotaryFactor + ") = " + rotary
                    + " rotary channels; they must be a positive even number");
        }
        if (!(ropeTheta > 1) || Double.isInfinite(ropeTheta)) throw new IllegalArgumentException("rope_theta must be a number > 1, got " + ropeTheta);
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) throw new IllegalArgumentException("rms_norm_eps must be a positive number, got " + rmsNormEps);
        if (slidingWindow != null) positive("sliding_window", slidingWindow);
        if (originalMaxPositionEmbeddings != null) positive("original_max_position_embeddings", originalMaxPositionEmbeddings);
        if (longRope != null) {
            for (var e : List.of(Map.entry("short_factor", longRope.shortFactor()), Map.entry("long_factor", longRope.longFactor()))) {
                if (e.getValue().size() != rotary / 2) {
                    throw new IllegalArgumentException("rope_scaling." + e.getKey() + " has " + e.getValue().size() + " entries; it needs one per rotary "
                            + "frequency, " + rotary / 2 + " (head_dim × partial_rotary_factor / 2)");
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
    public static Phi3Config parse(String json, String source) throws JtuneException {
        return Phi3ConfigJson.parse(json, source);
    }

    /** Channels of each head that rotate: int(head_dim × partial_rotary_factor), as transformers truncates it. */
    public int rotaryDim() {
        return (int) (headDim * partialRotaryFactor);
    }

    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    public int keyValueDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public String toJson() {
        return Phi3ConfigJson.toJson(this);
    }

    @Override
    public void write(Path file) throws JtuneException {
        AtomicFile.writeString(file, toJson());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a config in code (tests, tiny models) with transformers' Phi3Config defaults where they exist. */
    public static final class Builder {
        private int hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, vocabSize, numKeyValueHeads, headDim;
        private double ropeTheta = 10000.0;
        private LongRope longRope;
        private double partialRotaryFactor = 1.0;
        private Integer originalMaxPositionEmbeddings = 4096;
        private double rmsNormEps = 1e-5;
        private boolean tieWordEmbeddings;
        private Integer slidingWindow;
        private int maxPositionEmbeddings = 4096;
        private List<Integer> bosTokenIds = List.of(1);
        private List<Integer> eosTokenIds = List.of(32000);
        private String modelType = "phi3";
        private String torchDtype;
        private Map<String, Object> extra = Map.of();

        private Builder() {}

        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder longRope(LongRope v) { longRope = v; return this; }
        public Builder partialRotaryFactor(double v) { partialRotaryFactor = v; return this; }
        public Builder originalMaxPositionEmbeddings(Integer v) { originalMaxPositionEmbeddings = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder slidingWindow(Integer v) { slidingWindow = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder bosTokenIds(List<Integer> v) { bosTokenIds = v; return this; }
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        public Builder modelType(String v) { modelType = v; return this; }
        public Builder torchDtype(String v) { torchDtype = v; return this; }
        public Builder extra(Map<String, Object> v) { extra = v; return this; }

        public Phi3Config build() {
            int kv = numKeyValueHeads > 0 ? numKeyValueHeads : numAttentionHeads;
            int hd = headDim;
            if (hd == 0 && numAttentionHeads > 0) {
                if (hiddenSize % numAttentionHeads != 0) {
                    throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not divisible by num_attention_heads ("
                            + numAttentionHeads + ") and head_dim is not given");
                }
                hd = hiddenSize / numAttentionHeads;
            }
            return new Phi3Config(PHI3, modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, kv, hd, ropeTheta,
                    longRope, partialRotaryFactor, originalMaxPositionEmbeddings, rmsNormEps, tieWordEmbeddings, slidingWindow,
                    maxPositionEmbeddings, vocabSize, bosTokenIds, eosTokenIds, torchDtype, extra);
        }
    }
}
