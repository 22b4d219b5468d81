package org.jtune.quant.gguf;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Llama family (Llama, Mistral, TinyLlama, SmolLM...) in GGUF, as llama.cpp's converter
 * (convert_hf_to_gguf.py, LlamaModel) writes it and llama.cpp reads it:
 * <ul>
 * <li>tensor names: Hugging Face {@code model.layers.3.self_attn.q_proj.weight} ↔ GGUF
 *     {@code blk.3.attn_q.weight}, and the global ones (token_embd, output_norm, output);</li>
 * <li>the rotary permutation: Hugging Face rotates the two halves of each head (rotate_half), llama.cpp
 *     rotates adjacent pairs, so the converter reorders the rows of q_proj (with n_head) and k_proj (with
 *     n_head_kv): within each head of d rows, GGUF row 2i + j is Hugging Face row j·d/2 + i
 *     ({@code reshape(n_head, 2, d/2, ·).swapaxes(1, 2)}); reading a GGUF undoes it;</li>
 * <li>the hyper-parameter keys of general.architecture = "llama" ({@link Hyperparameters}).</li>
 * </ul>
 * A GGUF tensor's dims are in ggml order: a Hugging Face (out, in) weight is stored with ne = [in, out],
 * the same bytes row-major.
 */
public final class LlamaGgufNames {
    public static final String ARCHITECTURE = "llama";

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
    }

    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    /** Which rotary permutation a tensor's rows need. */
    public enum Rotary {
        NONE, QUERY, KEY
    }

    private LlamaGgufNames() {}

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

    /** The rotary permutation a tensor needs (by its Hugging Face or GGUF name). */
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
     * The llama hyper-parameters GGUF carries, with llama.cpp's key names and types (uint32 counts,
     * float32 epsilon and rope base). keyLength is written when the head dim is not embedding/heads.
     */
    public record Hyperparameters(long contextLength, long embeddingLength, long blockCount, long feedForwardLength,
                                  long headCount, long headCountKv, float ropeFreqBase, float rmsNormEpsilon,
                                  long ropeDimensionCount, long vocabSize, long keyLength) {
        public static final String CONTEXT_LENGTH = "llama.context_length";
        public static final String EMBEDDING_LENGTH = "llama.embedding_length";
        public static final String BLOCK_COUNT = "llama.block_count";
        public static final String FEED_FORWARD_LENGTH = "llama.feed_forward_length";
        public static final String HEAD_COUNT = "llama.attention.head_count";
        public static final String HEAD_COUNT_KV = "llama.attention.head_count_kv";
        public static final String ROPE_FREQ_BASE = "llama.rope.freq_base";
        public static final String RMS_EPSILON = "llama.attention.layer_norm_rms_epsilon";
        public static final String ROPE_DIMENSION_COUNT = "llama.rope.dimension_count";
        public static final String VOCAB_SIZE = "llama.vocab_size";
        public static final String KEY_LENGTH = "llama.attention.key_length";
        public static final String VALUE_LENGTH = "llama.attention.value_length";

        public Map<String, GgufValue> toMetadata() {
            Map<String, GgufValue> m = new LinkedHashMap<>();
            m.put("general.architecture", GgufValue.string(ARCHITECTURE));
            m.put(CONTEXT_LENGTH, GgufValue.u32(contextLength));
            m.put(EMBEDDING_LENGTH, GgufValue.u32(embeddingLength));
            m.put(BLOCK_COUNT, GgufValue.u32(blockCount));
            m.put(FEED_FORWARD_LENGTH, GgufValue.u32(feedForwardLength));
            m.put(HEAD_COUNT, GgufValue.u32(headCount));
            m.put(HEAD_COUNT_KV, GgufValue.u32(headCountKv));
            m.put(ROPE_FREQ_BASE, GgufValue.f32(ropeFreqBase));
            m.put(RMS_EPSILON, GgufValue.f32(rmsNormEpsilon));
            m.put(ROPE_DIMENSION_COUNT, GgufValue.u32(ropeDimensionCount));
            m.put(VOCAB_SIZE, GgufValue.u32(vocabSize));
            if (keyLength * headCount != embeddingLength) {
                m.put(KEY_LENGTH, GgufValue.u32(keyLength));
                m.put(VALUE_LENGTH, GgufValue.u32(keyLength));
            }
            return m;
        }

        /** Reads them back; optional keys take llama.cpp's defaults (head_count_kv = head_count, rope base 10000...). */
        public static Hyperparameters fromMetadata(GgufMetadata m) throws GgufException {
            String arch = m.getString("general.architecture");
            if (!arch.equals(ARCHITECTURE)) throw new GgufException("general.architecture is \"" + arch + "\", not \"llama\"");
            long heads = m.getLong(HEAD_COUNT);
            long embd = m.getLong(EMBEDDING_LENGTH);
            long keyLength = m.has(KEY_LENGTH) ? m.getLong(KEY_LENGTH) : embd / heads;
            return new Hyperparameters(m.getLong(CONTEXT_LENGTH), embd, m.getLong(BLOCK_COUNT), m.getLong(FEED_FORWARD_LENGTH), heads,
                    m.has(HEAD_COUNT_KV) ? m.getLong(HEAD_COUNT_KV) : heads,
                    m.has(ROPE_FREQ_BASE) ? (float) m.getDouble(ROPE_FREQ_BASE) : 10000f,
                    (float) m.getDouble(RMS_EPSILON),
                    m.has(ROPE_DIMENSION_COUNT) ? m.getLong(ROPE_DIMENSION_COUNT) : keyLength,
                    m.has(VOCAB_SIZE) ? m.getLong(VOCAB_SIZE) : -1, keyLength);
        }
    }
}
