package org.jtune.models.kv;

import org.jtune.tensor.Tensor;

/**
 * The keys and values of one sequence in every layer, for the positions processed so far. A step
 * of the model appends a sequence's t new positions to each layer ({@link #append}), attends over
 * everything returned, and then {@link #advance}s the cache by those t tokens. Implementations differ in how they
 * hold the positions (one growing buffer, fixed-size pages from a shared pool).
 */
public interface KvCache {
    /** Positions already cached: the position of the next token. */
    int length();

    /** Most positions this cache can hold. */
    int capacity();

    /**
     * Stores keys and values k, v (1, t, kvHeads, headDim) of {@code layer} after the cached ones and
     * returns all of that layer's keys and values so far, (1, length + t, kvHeads, headDim) each.
     */
    Tensor[] append(int layer, Tensor k, Tensor v);

    /** Records that the last step's tokens are now cached (their ids let paged caches share identical prefixes). */
    void advance(int[] tokens);

    /** Gives the memory back; the cache must not be used afterwards. */
    void release();
}
