package org.jtune.models.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * One sequence's keys and values in blocks of a shared {@link KvBlockPool}: a block table maps its
 * positions to pool blocks. Blocks are taken as the sequence grows ({@link #reserve}), full blocks
 * are registered by their tokens so later sequences with the same prefix reuse them
 * ({@link #reusePrefix}), and all are given back on {@link #release}. A batched step attends over the blocks in
 * place ({@link #write}, then one paged attention call for all its sequences); {@link #append} gathers a contiguous copy
 * of the sequence's positions (the pool's scratch) for the plain attention kernel.
 */
public final class PagedKvCache implements KvCache {
    private final KvBlockPool pool;
    private final int capacity;
    private final List<Integer> table = new ArrayList<>();
    private final List<Integer> tokens = new ArrayList<>(); // ids of the cached positions, to register full blocks
    private int length;
    private int registeredBlocks;
    private long chainHash;
    private boolean released;

    public PagedKvCache(KvBlockPool pool, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("KV cache capacity must be positive, got " + capacity);
        this.pool = pool;
        this.capacity = capacity;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Blocks this sequence holds. */
    public int blocks() {
        return table.size();
    }

    /**
     * Takes the cached blocks that hold a prefix of {@code prompt} (whole blocks only, and never the
     * prompt's last token, whose logits the caller needs): the sequence then starts at that length.
     * Returns the positions reused.
     */
    public int reusePrefix(int[] prompt) {
        if (length != 0) throw new IllegalStateException("prefix reuse only on an empty cache");
        int bs = pool.blockSize();
        while ((table.size() + 1) * bs < prompt.length) {
            int[] block = Arrays.copyOfRange(prompt, table.size() * bs, (table.size() + 1) * bs);
            int b = pool.lookup(chainHash, block);
            if (b < 0) break;
            table.add(b);
            chainHash = KvBlockPool.chain(chainHash, block);
            for (int t : block) tokens.add(t);
            registeredBlocks++;
            length += bs;
        }
        return length;
    }

    /** Makes room for t more positions; false (nothing taken) when the pool cannot provide the blocks. */
    public boolean reserve(int t) {
        int need = (length + t + pool.blockSize() - 1) / pool.blockSize() - table.size();
        if (need <= 0) return true;
        if (need > pool.availableBlocks()) return false;
        for (int i = 0; i < need; i++) table.add(pool.allocate());
        return true;
    }

    @Override
    public Tensor[] append(int layer, Tensor k, Tensor v) {
        write(layer, k, v);
        int total = length + k.size(1), bs = pool.blockSize();
        Tensor keys = pool.keys(layer), values = pool.values(layer);
        Tensor[] s = pool.scratch(total);
        for (int pos = 0; pos < total; pos += bs) { // gather every position for the attention kernel
            int block = table.get(pos / bs), n = Math.min(bs, total - pos);
            Ops.copyInto(keys.select(0, block).narrow(0, 0, n), s[0].select(0, 0).narrow(0, pos, n));
            Ops.copyInto(values.select(0, block).narrow(0, 0, n), s[1].select(0, 0).narrow(0, pos, n));
        }
        return s;
    }

    /**
     * Stores keys and values k, v (1, t, kvHeads, headDim) of {@code layer} after the cached positions, in this sequence's
     * blocks, without gathering anything: for attention that reads the blocks in place ({@link org.jtune.tensor.Ops#pagedAttention}
     * over {@link #blockTable()} in {@link #pool()}'s {@link KvBlockPool#keys} and {@link KvBlockPool#values}).
     */
    public void write(int layer, Tensor k, Tensor v) {
        int t = k.size(1), bs = pool.blockSize();
        if (length + t > capacity) throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        if ((length + t + bs - 1) / bs > table.size()) throw new IllegalStateException("KV blocks not reserved for " + t + " positions");
        Tensor keys = pool.keys(layer), values = pool.values(layer);
        for (int i = 0; i < t; ) { // write the new positions block by block
            int pos = length + i, block = table.get(pos / bs), off = pos % bs, n = Math.min(t - i, bs - off);
            Ops.copyInto(k.narrow(1, i, n).select(0, 0), keys.select(0, block).narrow(0, off, n));
            Ops.copyInto(v.narrow(1, i, n).select(0, 0), values.select(0, block).narrow(0, off, n));
            i += n;
        }
    }

    /** The pool whose blocks hold this sequence. */
    public KvBlockPool pool() {
        return pool;
    }

    /** The pool blocks of this sequence's positions in order: position p is in block blockTable()[p / blockSize]. */
    public int[] blockTable() {
        int[] a = new int[table.size()];
        for (int i = 0; i < a.length; i++) a[i] = table.get(i);
        return a;
    }

    @Override
    public void advance(int[] ids) {
        length += ids.length;
        for (int id : ids) tokens.add(id);
        int bs = pool.blockSize();
        while ((registeredBlocks + 1) * bs <= length) { // register blocks as they fill
            int[] block = new int[bs];
            for (int i = 0; i < bs; i++) block[i] = tokens.get(registeredBlocks * bs + i);
            chainHash = pool.register(table.get(registeredBlocks), chainHash, block);
            registeredBlocks++;
        }
    }

    @Override
    public void release() {
        if (released) return;
        released = true;
        for (int b : table) pool.release(b);
        table.clear();
        length = 0;
    }
}
