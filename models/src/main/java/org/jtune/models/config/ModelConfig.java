package org.jtune.models.config;

import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;

/**
 * What every architecture's config.json tells the rest of jtune: the sizes that KV caches, memory
 * plans, tokenizer checks and generation need, and how to write the config back. Each family has
 * its own record (e.g. {@link LlamaConfig}) implementing this with the keys config.json uses.
 */
public interface ModelConfig {
    /** The config.json "architectures" entry, e.g. LlamaForCausalLM. */
    String architecture();

    /** The config.json "model_type", e.g. llama. */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numHiddenLayers();

    int numAttentionHeads();

    int numKeyValueHeads();

    int headDim();

    /** The MLP's width (intermediate_size). */
    int intermediateSize();

    /** The RoPE base (rope_theta; Gemma 3's global layers'). */
    double ropeTheta();

    double rmsNormEps();

    /** The longest sequence the model's positions were trained for. */
    int maxPositionEmbeddings();

    /** Attention window in tokens, null for full causal attention. */
    Integer slidingWindow();

    boolean tieWordEmbeddings();

    List<Integer> bosTokenIds();

    List<Integer> eosTokenIds();

    /** The checkpoint's dtype name ("bfloat16", "float16", "float32") or null. */
    String torchDtype();

    /** Whether each query and key head is RMS-normalised before RoPE (Qwen3's q_norm/k_norm): their inputs are saved for the backward. */
    default boolean qkNorm() {
        return false;
    }

    /**
     * Values per token a decoder layer keeps for its backward beyond a Llama layer's (the training memory plan counts
     * those): the inputs of per-head q/k norms (q + kv) where there are some, a mixture's routing and gathered rows
     * ({@link MoeConfig#meanExtraSavedValuesPerToken}); a family with more ops per layer adds its own.
     *
     * @param intermediate the MLP's width
     */
    default long extraSavedValuesPerToken(long intermediate) {
        return (qkNorm() ? (long) (numAttentionHeads() + numKeyValueHeads()) * headDim() : 0)
                + (moe() != null ? moe().meanExtraSavedValuesPerToken(hiddenSize(), numHiddenLayers()) : 0);
    }

    /** The mixture-of-experts shape of a sparse model (Qwen3-MoE, Mixtral), null for a dense one. */
    default MoeConfig moe() {
        return null;
    }

    /** The config as config.json text, including keys the record does not model. */
    String toJson();

    /** Writes {@link #toJson()} to {@code file} atomically. */
    void write(Path file) throws JtuneException;
}
