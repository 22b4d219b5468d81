package org.jtune.quant.gguf;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The decoder families jtune writes and reads in GGUF — general.architecture "llama" (Llama, Mistral,
 * TinyLlama, SmolLM..., and Mixtral with its experts), "qwen2" (Qwen2, Qwen2.5), "qwen3" (dense Qwen3), "qwen3moe" (Qwen3-MoE)
 * "gemma3" (Gemma 3 text) and "granite" (IBM Granite 3.x: llama's layout with its four multipliers as keys) — as
 * llama.cpp's converter (convert_hf_to_gguf.py) writes them and llama.cpp reads them:
 * <ul>
 * <li>tensor names: Hugging Face {@code model.layers.3.self_attn.q_proj.weight} ↔ GGUF
 *     {@code blk.3.attn_q.weight}, biases alike, Qwen3's per-head {@code q_norm}/{@code k_norm} ↔
 *     {@code attn_q_norm}/{@code attn_k_norm}, and the global ones (token_embd, output_norm, output); Gemma 3's four
 *     norms per layer are attn_norm, post_attention_norm, ffn_norm (before the MLP) and post_ffw_norm
 *     ({@link #toGguf(String, String)}: post_attention_layernorm is ffn_norm in the other layouts);</li>
 * <li>the rotary permutation, for "llama" only: Hugging Face rotates the two halves of each head
 *     (rotate_half), llama.cpp's llama graph rotates adjacent pairs, so the converter reorders the rows of
 *     q_proj (with n_head) and k_proj (with n_head_kv): within each head of d rows, GGUF row 2i + j is
 *     Hugging Face row j·d/2 + i ({@code reshape(n_head, 2, d/2, ·).swapaxes(1, 2)}); reading a GGUF undoes
 *     it. The qwen2 and qwen3 graphs rotate halves (llama.cpp's NEOX mode), so their rows stay
 *     ({@link #permutesRotaryRows});</li>
 * <li>a mixture's router ({@code ffn_gate_inp}) and its experts, whose projections GGUF stacks into one 3-D tensor per
 *     layer and kind ({@code ffn_gate_exps}, {@code ffn_up_exps}, {@code ffn_down_exps}, ne = [in, out, experts]: expert e's
 *     rows follow expert e − 1's) where Hugging Face keeps one matrix per expert ({@link #expertSlice});</li>
 * <li>the hyper-parameter keys, prefixed by the architecture ({@link Hyperparameters}, {@link Experts}).</li>
 * </ul>
 * A GGUF tensor's dims are in ggml order: a Hugging Face (out, in) weight is stored with ne = [in, out],
 * the same bytes row-major.
 */
public final class GgufNames {
    public static final String LLAMA = "llama", QWEN2 = "qwen2", QWEN3 = "qwen3", QWEN3MOE = "qwen3moe", GEMMA3 = "gemma3", GRANITE = "granite";
    /** The values of general.architecture jtune reads and writes. */
    public static final java.util.List<String> ARCHITECTURES = java.util.List.of(LLAMA, QWEN2, QWEN3, QWEN3MOE, GEMMA3, GRANITE);
    /** Granite's multipliers (llama.cpp's names, after the architecture): attention_multiplier, embedding_multiplier, residual_multiplier, logits_scaling. */
    public static final String ATTENTION_SCALE = ".attention.scale", EMBEDDING_SCALE = ".embedding_scale", RESIDUAL_SCALE = ".residual_scale",
            LOGIT_SCALE = ".logit_scale";
    /** A mixture's router, by architecture: Mixtral's in the llama layout, Qwen3-MoE's (Hugging Face suffix inside model.layers.N). */
    private static final Map<String, String> ROUTER = Map.of(LLAMA, "block_sparse_moe.gate.weight", QWEN3MOE, "mlp.gate.weight");
    private static final String ROUTER_GGUF = "ffn_gate_inp.weight";
    /** An expert's gate, up and down projections by architecture: Hugging Face suffixes inside model.layers.N, %d the expert. */
    private static final Map<String, java.util.List<String>> EXPERT_PROJECTIONS = Map.of(
            LLAMA, java.util.List.of("block_sparse_moe.experts.%d.w1.weight", "block_sparse_moe.experts.%d.w3.weight", "block_sparse_moe.experts.%d.w2.weight"),
            QWEN3MOE, java.util.List.of("mlp.experts.%d.gate_proj.weight", "mlp.experts.%d.up_proj.weight", "mlp.experts.%d.down_proj.weight"));
    /** The stacked tensors of gate, up and down, in that order. */
    private static final java.util.List<String> STACKED = java.util.List.of("ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight");
    /** Gemma 3's layer norms where they differ from the common table (Hugging Face suffix → GGUF suffix). */
    private static final Map<String, String> GEMMA3_LAYER = Map.of(
            "post_attention_layernorm.weight", "post_attention_norm.weight",
            "pre_feedforward_layernorm.weight", "ffn_norm.weight",
            "post_feedforward_layernorm.weight", "post_ffw_norm.weight");

    /** Hugging Face suffix inside model.layers.N → GGUF suffix inside blk.N. */
    private static final Map<String, String> LAYER = new LinkedHashMap<>();
    private static final Map<String, String> GLOBAL = new LinkedHashMap<>();

    static {
        GLOBAL.put("model.embed_tokens.weight", "token_embd.weight");
        GLOBAL.put("model.norm.weight", "output_norm.weight");
        GLOBAL.put("lm_head.weight", "output.weight");
        LAYER.put("input_layernorm.weight", "attn_norm.weight");
        for (String p : new String[] {"weight", "bias"}) {
            LAYER.put("self_attn.q_proj." + p, "attn_q." + p);
            LAYER.put("self_attn.k_proj." + p, "attn_k." + p);
            LAYER.put("self_attn.v_proj." + p, "attn_v." + p);
            LAYER.put("self_attn.o_proj." + p, "attn_output." + p);
            LAYER.put("mlp.gate_proj." + p, "ffn_gate." + p);
            LAYER.put("mlp.up_proj." + p, "ffn_up." + p);
            LAYER.put("mlp.down_proj." + p, "ffn_down." + p);
        }
        LAYER.put("post_attention_layernorm.weight", "ffn_norm.weight");
        LAYER.put("self_attn.q_norm.weight", "attn_q_norm.weight");
        LAYER.put("self_attn.k_norm.weight", "attn_k_norm.weight");
    }

    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    /** Which rotary permutation a tensor's rows need. */
    public enum Rotary {
        NONE, QUERY, KEY
    }

    private GgufNames() {}

    /** The GGUF name of a Hugging Face tensor, or empty for tensors GGUF does not keep (rotary_emb.inv_freq). */
    public static Optional<String> toGguf(String hf) {
        String g = GLOBAL.get(hf);
        if (g != null) return Optional.of(g);
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches()) {
            String suffix = LAYER.get(m.group(2));
            if (suffix != null) return Optional.of("blk." + m.group(1) + "." + suffix);
        }
        return Optional.empty();
    }

    /** The GGUF name of a Hugging Face tensor in architecture {@code arch}'s layout (an expert's: {@link #expertSlice}). */
    public static Optional<String> toGguf(String arch, String hf) {
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches() && m.group(2).equals(ROUTER.get(arch))) return Optional.of("blk." + m.group(1) + "." + ROUTER_GGUF);
        if (arch.equals(GEMMA3) && m.matches()) {
            String suffix = GEMMA3_LAYER.get(m.group(2));
            if (suffix != null) return Optional.of("blk." + m.group(1) + "." + suffix);
        }
        return toGguf(hf);
    }

    /** The Hugging Face name of a GGUF tensor in architecture {@code arch}'s layout (a stacked expert tensor's: {@link #expertName}). */
    public static Optional<String> toHuggingFace(String arch, String gguf) {
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches() && m.group(2).equals(ROUTER_GGUF) && ROUTER.containsKey(arch)) {
            return Optional.of("model.layers." + m.group(1) + "." + ROUTER.get(arch));
        }
        if (arch.equals(GEMMA3) && m.matches()) {
            for (Map.Entry<String, String> e : GEMMA3_LAYER.entrySet()) {
                if (e.getValue().equals(m.group(2))) return Optional.of("model.layers." + m.group(1) + "." + e.getKey());
            }
        }
        return toHuggingFace(gguf);
    }

    /** The Hugging Face name of a GGUF tensor, or empty when it has none (rope_freqs and others). */
    public static Optional<String> toHuggingFace(String gguf) {
        for (Map.Entry<String, String> e : GLOBAL.entrySet()) if (e.getValue().equals(gguf)) return Optional.of(e.getKey());
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches()) {
            for (Map.Entry<String, String> e : LAYER.entrySet()) {
                if (e.getValue().equals(m.group(2))) return Optional.of("model.layers." + m.group(1) + "." + e.getKey());
            }
        }
        return Optional.empty();
    }

    /** One expert's matrix inside a stacked GGUF tensor. */
    public record ExpertSlice(String gguf, int expert) {}

    /** Where a Hugging Face expert projection of architecture {@code arch} goes in GGUF; empty for any other tensor. */
    public static Optional<ExpertSlice> expertSlice(String arch, String hf) {
        java.util.List<String> projections = EXPERT_PROJECTIONS.get(arch);
        Matcher m = HF_LAYER.matcher(hf);
        if (projections == null || !m.matches()) return Optional.empty();
        String suffix = m.group(2);
        for (int kind = 0; kind < projections.size(); kind++) {
            String[] around = projections.get(kind).split("%d");
            if (suffix.length() <= around[0].length() + around[1].length() || !suffix.startsWith(around[0]) || !suffix.endsWith(around[1])) continue;
            String expert = suffix.substring(around[0].length(), suffix.length() - around[1].length());
            if (expert.chars().allMatch(Character::isDigit)) {
                return Optional.of(new ExpertSlice("blk." + m.group(1) + "." + STACKED.get(kind), Integer.parseInt(expert)));
            }
        }
        return Optional.empty();
    }

    /** The Hugging Face name of expert {@code e}'s matrix in stacked GGUF tensor {@code gguf}; empty when gguf is not one. */
    public static Optional<String> expertName(String arch, String gguf, int e) {
        Matcher m = GGUF_LAYER.matcher(gguf);
        int kind = m.matches() ? STACKED.indexOf(m.group(2)) : -1;
        if (kind < 0 || !EXPERT_PROJECTIONS.containsKey(arch)) return Optional.empty();
        String pattern = EXPERT_PROJECTIONS.get(arch).get(kind);
        return Optional.of("model.layers." + m.group(1) + "." + pattern.replace("%d", Integer.toString(e)));
    }

    /**
     * A mixture's shape in GGUF: ARCH.expert_count, ARCH.expert_used_count, and for qwen3moe ARCH.expert_feed_forward_length
     * (each expert's width; in the llama layout the experts' width is feed_forward_length itself).
     */
    public record Experts(long count, long used, long feedForwardLength) {
        public static final String COUNT = ".expert_count", USED = ".expert_used_count", FEED_FORWARD_LENGTH = ".expert_feed_forward_length";

        public Map<String, GgufValue> toMetadata(String arch) {
            Map<String, GgufValue> m = new LinkedHashMap<>();
            m.put(arch + COUNT, GgufValue.u32(count));
            m.put(arch + USED, GgufValue.u32(used));
            if (!arch.equals(LLAMA)) m.put(arch + FEED_FORWARD_LENGTH, GgufValue.u32(feedForwardLength));
            return m;
        }

        /** The file's experts, or null for a dense model (no expert_count, or 0). */
        public static Experts fromMetadata(GgufMetadata m) throws GgufException {
            String a = m.getString("general.architecture");
            if (!m.has(a + COUNT) || m.getLong(a + COUNT) == 0) return null;
            long ffn = a.equals(LLAMA) ? m.getLong(a + Hyperparameters.FEED_FORWARD_LENGTH) : m.getLong(a + FEED_FORWARD_LENGTH);
            return new Experts(m.getLong(a + COUNT), m.getLong(a + USED), ffn);
        }
    }

    /**
     * What a norm weight gains in architecture {@code arch}'s GGUF: Gemma 3 normalises by (1 + weight) and llama.cpp by the
     * stored weight, so the converter stores weight + 1 (reading subtracts it); 0 elsewhere.
     */
    public static float normShift(String arch, String hfName) {
        return arch.equals(GEMMA3) && hfName.endsWith("norm.weight") ? 1f : 0f;
    }

    /** Whether architecture {@code arch} stores q/k rows in llama.cpp's interleaved rotary order ("llama" and "granite"). */
    public static boolean permutesRotaryRows(String arch) {
        return arch.equals(LLAMA) || arch.equals(GRANITE);
    }

    /** The rotary permutation a tensor of architecture {@code arch} needs (by its Hugging Face or GGUF name). */
    public static Rotary rotary(String arch, String name) {
        return permutesRotaryRows(arch) ? rotary(name) : Rotary.NONE;
    }

    /** The rotary permutation a tensor needs in the llama layout (by its Hugging Face or GGUF name). */
    public static Rotary rotary(String name) {
        if (name.matches(".*(self_attn\\.q_proj|attn_q)\\.(weight|bias)")) return Rotary.QUERY;
        if (name.matches(".*(self_attn\\.k_proj|attn_k)\\.(weight|bias)")) return Rotary.KEY;
        return Rotary.NONE;
    }

    /**
     * For each GGUF row r, the Hugging Face row it comes from: heads of rows/heads rows each, GGUF row
     * h·d + 2i + j = Hugging Face row h·d + j·d/2 + i.
     */
    public static int[] ggufRowSources(int rows, int heads) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows do not split into " + heads + " heads of an even size");
        }
        int d = rows / heads;
        int[] src = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < d / 2; i++) {
                for (int j = 0; j < 2; j++) src[h * d + 2 * i + j] = h * d + j * d / 2 + i;
            }
        }
        return src;
    }

    /** For each Hugging Face row, the GGUF row it comes from (the inverse of {@link #ggufRowSources}). */
    public static int[] huggingFaceRowSources(int rows, int heads) {
        int[] forward = ggufRowSources(rows, heads);
        int[] inverse = new int[rows];
        for (int r = 0; r < rows; r++) inverse[forward[r]] = r;
        return inverse;
    }

    /** Rows of a row-major (rows, cols) F32 matrix, reordered: out row r = in row sources[r]. */
    public static float[] permuteRows(float[] matrix, int rows, int cols, int[] sources) {
        float[] out = new float[matrix.length];
        for (int r = 0; r < rows; r++) System.arraycopy(matrix, sources[r] * cols, out, r * cols, cols);
        return out;
    }

    /**
     * The hyper-parameters GGUF carries for one of {@link #ARCHITECTURES}, with llama.cpp's key names (prefixed by
     * the architecture: {@code qwen2.attention.head_count}) and types (uint32 counts, float32 epsilon and rope
     * base). keyLength is written when the head dim is not embedding/heads.
     */
    public record Hyperparameters(String architecture, long contextLength, long embeddingLength, long blockCount, long feedForwardLength,
                                  long headCount, long headCountKv, float ropeFreqBase, float rmsNormEpsilon,
                                  long ropeDimensionCount, long vocabSize, long keyLength) {
        public static final String CONTEXT_LENGTH = ".context_length";
        public static final String EMBEDDING_LENGTH = ".embedding_length";
        public static final String BLOCK_COUNT = ".block_count";
        public static final String FEED_FORWARD_LENGTH = ".feed_forward_length";
        public static final String HEAD_COUNT = ".attention.head_count";
        public static final String HEAD_COUNT_KV = ".attention.head_count_kv";
        public static final String ROPE_FREQ_BASE = ".rope.freq_base";
        public static final String RMS_EPSILON = ".attention.layer_norm_rms_epsilon";
        public static final String ROPE_DIMENSION_COUNT = ".rope.dimension_count";
        public static final String VOCAB_SIZE = ".vocab_size";
        public static final String KEY_LENGTH = ".attention.key_length";
        public static final String VALUE_LENGTH = ".attention.value_length";

        public Hyperparameters {
            if (!ARCHITECTURES.contains(architecture)) throw new IllegalArgumentException("GGUF architecture " + architecture + " is not one of " + ARCHITECTURES);
        }

        /** The llama architecture's hyper-parameters. */
        public static Hyperparameters llama(long contextLength, long embeddingLength, long blockCount, long feedForwardLength, long headCount,
                                            long headCountKv, float ropeFreqBase, float rmsNormEpsilon, long ropeDimensionCount, long vocabSize,
                                            long keyLength) {
            return new Hyperparameters(LLAMA, contextLength, embeddingLength, blockCount, feedForwardLength, headCount, headCountKv, ropeFreqBase,
                    rmsNormEpsilon, ropeDimensionCount, vocabSize, keyLength);
        }

        public Map<String, GgufValue> toMetadata() {
            String a = architecture;
            Map<String, GgufValue> m = new LinkedHashMap<>();
            m.put("general.architecture", GgufValue.string(a));
            m.put(a + CONTEXT_LENGTH, GgufValue.u32(contextLength));
            m.put(a + EMBEDDING_LENGTH, GgufValue.u32(embeddingLength));
            m.put(a + BLOCK_COUNT, GgufValue.u32(blockCount));
            m.put(a + FEED_FORWARD_LENGTH, GgufValue.u32(feedForwardLength));
            m.put(a + HEAD_COUNT, GgufValue.u32(headCount));
            m.put(a + HEAD_COUNT_KV, GgufValue.u32(headCountKv));
            m.put(a + ROPE_FREQ_BASE, GgufValue.f32(ropeFreqBase));
            m.put(a + RMS_EPSILON, GgufValue.f32(rmsNormEpsilon));
            m.put(a + ROPE_DIMENSION_COUNT, GgufValue.u32(ropeDimensionCount));
            m.put(a + VOCAB_SIZE, GgufValue.u32(vocabSize));
            if (keyLength * headCount != embeddingLength) {
                m.put(a + KEY_LENGTH, GgufValue.u32(keyLength));
                m.put(a + VALUE_LENGTH, GgufValue.u32(keyLength));
            }
            return m;
        }

        /** Reads them back; optional keys take llama.cpp's defaults (head_count_kv = head_count, rope base 10000...). */
        public static Hyperparameters fromMetadata(GgufMetadata m) throws GgufException {
            String a = m.getString("general.architecture");
            if (!ARCHITECTURES.contains(a)) {
                throw new GgufException("general.architecture is \"" + a + "\", not one of " + String.join(", ", ARCHITECTURES));
            }
            long heads = m.getLong(a + HEAD_COUNT);
            long embd = m.getLong(a + EMBEDDING_LENGTH);
            long keyLength = m.has(a + KEY_LENGTH) ? m.getLong(a + KEY_LENGTH) : embd / heads;
            return new Hyperparameters(a, m.getLong(a + CONTEXT_LENGTH), embd, m.getLong(a + BLOCK_COUNT), m.getLong(a + FEED_FORWARD_LENGTH), heads,
                    m.has(a + HEAD_COUNT_KV) ? m.getLong(a + HEAD_COUNT_KV) : heads,
                    m.has(a + ROPE_FREQ_BASE) ? (float) m.getDouble(a + ROPE_FREQ_BASE) : 10000f,
                    (float) m.getDouble(a + RMS_EPSILON),
                    m.has(a + ROPE_DIMENSION_COUNT) ? m.getLong(a + ROPE_DIMENSION_COUNT) : keyLength,
                    m.has(a + VOCAB_SIZE) ? m.getLong(a + VOCAB_SIZE) : -1, keyLength);
        }
    }
}
