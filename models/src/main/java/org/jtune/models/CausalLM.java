package org.jtune.models;

import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.config.ModelConfig;
import org.jtune.models.kv.GrowingKvCache;
import org.jtune.models.kv.KvCache;
import org.jtune.models.kv.KvCacheType;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.Adapters;
import org.jtune.models.weights.WeightTable;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * A decoder-only language model as the rest of jtune uses it, whatever its architecture: a
 * full-sequence forward for training and scoring, a step over several sequences with their own KV
 * caches for generation (continuous batching), its weights by Hugging Face name, and its LoRA
 * adapters by name. {@link org.jtune.models.arch.Architectures} builds one from a model folder.
 */
public interface CausalLM extends AutoCloseable {
    ModelConfig config();

    /** The weights by Hugging Face name: load, save, merge, full fine-tuning, LoRA targets. */
    WeightTable weights();

    /** The LoRA adapters loaded on this model and which are active. */
    Adapters adapters();

    /**
     * Final-norm hidden states (B, T, dim) of token ids (B, T) I32 at positions (B, T) I32. Records
     * the graph for training unless under {@link org.jtune.autograd.NoGrad}.
     */
    default Variable hidden(Tensor ids, Tensor positions, ForwardPass pass) {
        return hiddenAfter(config().numHiddenLayers(), ids, positions, pass);
    }

    /**
     * The hidden states (B, T, dim) after the first {@code depth} decoder layers: 0 gives the token embeddings, every layer
     * gives {@link #hidden} (after the final norm), as Hugging Face's {@code hidden_states[depth]}. Embedding-based scores
     * (BERTScore) read a middle layer.
     */
    Variable hiddenAfter(int depth, Tensor ids, Tensor positions, ForwardPass pass);

    /** An {@link IllegalArgumentException} unless 0 ≤ depth ≤ layers. */
    static void checkDepth(int depth, int layers) {
        if (depth < 0 || depth > layers) throw new IllegalArgumentException("depth " + depth + " is outside 0.." + layers + " decoder layers");
    }

    /** Logits (..., vocab) of hidden states (..., dim), through the given adapters (null: the active ones). */
    Variable logits(Variable hidden, AdapterRouting adapters);

    /** Logits through the active adapters. */
    default Variable logits(Variable hidden) {
        return logits(hidden, null);
    }

    /**
     * One inference step (no gradients): each chunk's tokens are appended to its sequence's cache and
     * the logits of its last {@link SequenceChunk#logitRows} tokens are returned, (Σ logitRows, vocab) F32 in chunk
     * order (one row per chunk unless drafts are being checked). The caller advances each cache by the tokens it
     * keeps afterwards (all of its chunk, or the checked drafts that were right).
     */
    Tensor step(List<SequenceChunk> chunks);

    /**
     * An empty KV cache for one sequence of up to {@code capacity} positions, holding {@link #kvCacheType} elements: by
     * default a {@link GrowingKvCache} starting with room for 256 positions.
     */
    default KvCache newKvCache(int capacity) {
        ModelConfig c = config();
        return new GrowingKvCache(c.numHiddenLayers(), c.numKeyValueHeads(), c.headDim(), capacity, Math.min(capacity, 256), kvCacheType());
    }

    /** The element type of the KV caches this model makes from now on: F32 (the default), BF16 or F16 ({@link KvCacheType}). */
    DType kvCacheType();

    /** Sets {@link #kvCacheType} (the CLI's {@code --kv-type}); an error for a type no cache holds. */
    void setKvCacheType(DType type);

    /** Releases the memory mapping of the weights; the model must not be used afterwards. */
    @Override
    void close();
}
