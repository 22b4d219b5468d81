package org.jtune.models.phi3;

import java.util.Arrays;
import org.jtune.models.kv.GrowingKvCache;
import org.jtune.models.kv.KvCache;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * A Phi-3 sequence's KV cache: keys and values in a {@link GrowingKvCache}, plus the token ids they
 * came from and whether they were rotated with LongRoPE's long factors. When generation makes a
 * sequence cross original_max_position_embeddings, every cached key was rotated with the short
 * factors and every later layer's input depends on them, so {@link Phi3Model} recomputes the whole
 * sequence from these ids with the long factors (what Phi3ForCausalLM.prepare_inputs_for_generation
 * does by dropping the cache).
 */
final class Phi3KvCache implements KvCache {
    private final int layers, kvHeads, headDim, capacity;
    private final DType type;
    private GrowingKvCache cache;
    private int[] tokens = new int[16];
    private int length;         // ids of cached positions
    private boolean longFactors;

    Phi3KvCache(int layers, int kvHeads, int headDim, int capacity, DType type) {
        this.type = type;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.cache = fresh();
    }

    private GrowingKvCache fresh() {
        return new GrowingKvCache(layers, kvHeads, headDim, capacity, Math.min(capacity, 256), type);
    }

    @Override
    public int length() {
        return cache.length();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public Tensor[] append(int layer, Tensor k, Tensor v) {
        return cache.append(layer, k, v);
    }

    @Override
    public void advance(int[] ids) {
        cache.advance(ids);
        if (length + ids.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(2 * tokens.length, length + ids.length));
        System.arraycopy(ids, 0, tokens, length, ids.length);
        length += ids.length;
    }

    @Override
    public void release() {
        cache.release();
        tokens = null;
    }

    boolean longFactors() {
        return longFactors;
    }

    /** Records whether this step's positions are rotated with the long factors. */
    void useLongFactors(boolean longFactors) {
        this.longFactors = longFactors;
    }

    /** The ids of the cached positions. */
    int[] cachedTokens() {
        return Arrays.copyOf(tokens, length);
    }

    /**
     * Empties the keys and values so the whole sequence can be run again, keeping the ids; the step
     * that refills it then calls {@link #refilled}.
     */
    void restart() {
        cache.release();
        cache = fresh();
    }

    /** After a recomputation of {@code before + t} positions: marks the first {@code before} as cached, leaving t to the caller's advance. */
    void refilled(int before) {
        cache.advance(Arrays.copyOf(tokens, before));
    }
}
