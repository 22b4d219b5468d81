package org.jtune.models.kv;

import org.jtune.tensor.BufferPool;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * A {@link KvCache} holding each layer's keys and values in one buffer (1, room, kvHeads, headDim)
 * that doubles when it fills up, up to a fixed capacity: memory follows the sequence's actual
 * length, and the attention kernel reads the cached positions as a plain view. The buffers are F32,
 * or BF16 or F16 at half the memory ({@link KvCacheType}: rounded once when stored, widened exactly
 * when read). They live on the device of the keys appended (the model's device): the first append
 * on another device than the current buffers' moves them there once (F32 only).
 */
public final class GrowingKvCache implements KvCache {
    private final int layers, kvHeads, headDim, capacity;
    private final DType type;
    private Tensor[] keys, values;
    private int room, length;

    /** A cache for up to {@code capacity} positions of {@code type} elements, starting with room for {@code initial}. */
    public GrowingKvCache(int layers, int kvHeads, int headDim, int capacity, int initial, DType type) {
        if (capacity <= 0) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.type = KvCacheType.check(type);
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
        if (!keys[layer].device().equals(k.device())) moveTo(k.device());
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

    /** Every layer's buffers on {@code device} (outside any step's buffer pool: they outlive the step). */
    private void moveTo(Device device) {
        KvCacheType.requireHostUnlessF32(type, device);
        BufferPool.outside(() -> {
            for (int l = 0; l < layers; l++) {
                keys[l] = keys[l].to(device);
                values[l] = values[l].to(device);
            }
            return null;
        });
    }

    private void grow(int newRoom) {
        Device device = keys[0] == null ? Device.CPU : keys[0].device();
        for (int l = 0; l < layers; l++) {
            Tensor k = zeros(device, newRoom), v = zeros(device, newRoom);
            if (length > 0) {
                Ops.copyInto(keys[l].narrow(1, 0, length), k.narrow(1, 0, length));
                Ops.copyInto(values[l].narrow(1, 0, length), v.narrow(1, 0, length));
            }
            keys[l] = k;
            values[l] = v;
        }
        room = newRoom;
    }

    private Tensor zeros(Device device, int room) {
        return device.isHost() ? Tensor.zeros(type, 1, room, kvHeads, headDim)
                : BufferPool.outside(() -> device.backend().allocate(type, 1, room, kvHeads, headDim));
    }
}
