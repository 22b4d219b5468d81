package org.jtune.models.llama;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Keys and values of every layer for the positions processed so far, for a batch of sequences:
 * (B, capacity, kvHeads, headDim) F32 per layer, filled left to right. A forward call appends its
 * T new positions to every layer and then {@link #advance}s. Segment ids per position let a batch
 * of left-padded prompts share one cache: padding gets segment −1 and is never attended to by real
 * tokens (segment 0).
 */
public final class KvCache {
    private final Tensor[] keys;
    private final Tensor[] values;
    private final Tensor segments; // (B, capacity) I32
    private final int capacity;
    private int length;

    public KvCache(int layers, int batch, int capacity, int kvHeads, int headDim) {
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = Tensor.zeros(DType.F32, batch, capacity, kvHeads, headDim);
            values[l] = Tensor.zeros(DType.F32, batch, capacity, kvHeads, headDim);
        }
        this.segments = Tensor.zeros(DType.I32, batch, capacity);
        this.capacity = capacity;
    }

    /** Positions already in the cache (the query offset of the next call). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Marks position {@code pos} of sequence {@code b} as padding (before it is appended). */
    public void markPadding(int b, int pos) {
        segments.storage().setInt(DType.I32, segments.index(b, pos), -1);
    }

    /**
     * Writes the new keys and values (B, T, kvHeads, headDim) of layer {@code layer} after the cached
     * ones and returns all keys and values so far: (B, length + T, kvHeads, headDim) views.
     */
    public Tensor[] append(int layer, Tensor k, Tensor v) {
        int t = k.size(1);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        }
        Ops.copyInto(k, keys[layer].narrow(1, length, t));
        Ops.copyInto(v, values[layer].narrow(1, length, t));
        return new Tensor[] {keys[layer].narrow(1, 0, length + t), values[layer].narrow(1, 0, length + t)};
    }

    /** The attention mask for a call of T new positions: causal, offset by the cached length, with segments. */
    public AttentionMask mask(int t, int window) {
        return new AttentionMask(true, window, length, segments.narrow(1, 0, length + t));
    }

    /** Records that the last call's T positions are now cached. */
    public void advance(int t) {
        length += t;
    }
}
