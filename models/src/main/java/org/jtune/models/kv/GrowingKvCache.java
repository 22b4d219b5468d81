package org.jtune.models.kv;

import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * A {@link KvCache} holding each layer's keys and values in one F32 buffer (1, room, kvHeads,
 * headDim) that doubles when it fills up, up to a fixed capacity: memory follows the sequence's
 * actual length, and the attention kernel reads the cached positions as a plain view.
 */
public final class GrowingKvCache implements KvCache {
    private final int layers, kvHeads, headDim, capacity;
    private Tensor[] keys, values;
    private int room, length;

    /** A cache for up to {@code capacity} positions, starting with room for {@code initial}. */
    public GrowingKvCache(int layers, int kvHeads, int headDim, int capacity, int initial) {
        if (capacity <= 0) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        grow(Math.clamp(initial, 1, capacity));
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public Tensor[] append(int layer, Tensor k, Tensor v) {
        int t = k.size(1);
        if (length + t > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        }
        if (length + t > room) grow(Math.min(capacity, Math.max(2 * room, length + t)));
        Ops.copyInto(k, keys[layer].narrow(1, length, t));
        Ops.copyInto(v, values[layer].narrow(1, length, t));
        return new Tensor[] {keys[layer].narrow(1, 0, length + t), values[layer].narrow(1, 0, length + t)};
    }

    @Override
    public void advance(int[] tokens) {
        length += tokens.length;
    }

    @Override
    public void release() {
        keys = null;
        values = null;
    }

    private void grow(int newRoom) {
        for (int l = 0; l < layers; l++) {
            Tensor k = Tensor.zeros(DType.F32, 1, newRoom, kvHeads, headDim), v = Tensor.zeros(DType.F32, 1, newRoom, kvHeads, headDim);
            if (length > 0) {
                Ops.copyInto(keys[l].narrow(1, 0, length), k.narrow(1, 0, length));
                Ops.copyInto(values[l].narrow(1, 0, length), v.narrow(1, 0, length));
            }
            keys[l] = k;
            values[l] = v;
        }
        room = newRoom;
    }
}
