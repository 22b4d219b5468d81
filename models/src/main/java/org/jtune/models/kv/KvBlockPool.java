package org.jtune.models.kv;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.models.config.ModelConfig;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * The KV memory of an engine as fixed-size blocks (PagedAttention, Kwon et al. 2023): per layer one
 * tensor of keys and one of values, (blocks, blockSize, kvHeads, headDim) of F32, BF16 or F16
 * ({@link KvCacheType}), allocated once under a byte budget. Sequences hold blocks through
 * {@link PagedKvCache}s; a block is reference-counted, so sequences that start with the same tokens
 * (a long system prompt) share the blocks of that prefix.
 * A full block whose tokens are known stays cached after its last user is gone, keyed by the chain
 * of its tokens and all tokens before it, until its memory is needed (least recently used first).
 * Not thread-safe: one engine thread owns the pool.
 */
public final class KvBlockPool {
    private final int layers, kvHeads, headDim, blockSize, blocks;
    private final DType type;
    private final Tensor[] keys, values;
    private final int[] refs;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Full blocks with known contents: chain hash → block; refcount 0 ones are evictable, oldest first. */
    private final Map<Long, Integer> byHash = new HashMap<>();
    private final long[] hashOf;
    private final int[][] tokensOf;
    private final LinkedHashMap<Integer, Boolean> evictable = new LinkedHashMap<>(16, 0.75f, true);
    private long prefixHits, prefixLookups;
    private Tensor scratchK, scratchV;

    public KvBlockPool(int layers, int kvHeads, int headDim, int blockSize, int blocks, DType type) {
        if (blockSize < 1 || blocks < 1) throw new IllegalArgumentException("KV pool needs positive block size and count, got " + blockSize + ", " + blocks);
        this.type = KvCacheType.check(type);
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.blockSize = blockSize;
        this.blocks = blocks;
        this.keys = new Tensor[layers];
        this.values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = Tensor.zeros(type, blocks, blockSize, kvHeads, headDim);
            values[l] = Tensor.zeros(type, blocks, blockSize, kvHeads, headDim);
        }
        this.refs = new int[blocks];
        this.hashOf = new long[blocks];
        this.tokensOf = new int[blocks][];
        for (int b = 0; b < blocks; b++) free.add(b);
    }

    /** A pool of as many blocks of {@code type} elements as {@code budgetBytes} holds for this model's layers and KV heads. */
    public static KvBlockPool forBudget(ModelConfig c, long budgetBytes, int blockSize, DType type) {
        long perBlock = bytesPerBlock(c, blockSize, type);
        long n = budgetBytes / perBlock;
        if (n < 1) {
            throw new IllegalArgumentException("a KV budget of " + budgetBytes + " bytes holds no block of " + blockSize + " positions ("
                    + perBlock + " bytes for this model)");
        }
        return new KvBlockPool(c.numHiddenLayers(), c.numKeyValueHeads(), c.headDim(), blockSize, (int) Math.min(n, Integer.MAX_VALUE / 2), type);
    }

    /**
     * The budget a server takes when not told one: room for {@code maxSequences} sequences of the model's whole context, but at
     * most 40 % of {@code freeBytes} (the heap still free once the model is loaded; the step buffers may take a quarter of
     * the heap, activations the rest), and at least one block.
     */
    public static long autoBudget(ModelConfig c, int maxSequences, int blockSize, long freeBytes, DType type) {
        long perBlock = bytesPerBlock(c, blockSize, type);
        long wanted = (long) maxSequences * ((c.maxPositionEmbeddings() + blockSize - 1) / blockSize) * perBlock;
        long room = (long) (freeBytes * 0.4) / perBlock * perBlock;
        return Math.max(perBlock, Math.min(wanted, room));
    }

    /** Bytes one block of {@code blockSize} positions takes over all layers (keys and values of {@code type}). */
    public static long bytesPerBlock(ModelConfig c, int blockSize, DType type) {
        return 2L * type.byteSize() * c.numHiddenLayers() * blockSize * c.numKeyValueHeads() * c.headDim();
    }

    /** The element type of the blocks. */
    public DType type() {
        return type;
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return blocks;
    }

    /** Blocks held by at least one sequence. */
    public int usedBlocks() {
        return blocks - free.size() - evictable.size();
    }

    /** Blocks a new allocation can take (free, or cached and unused). */
    public int availableBlocks() {
        return free.size() + evictable.size();
    }

    /** Unused blocks kept for their cached prefix. */
    public int cachedBlocks() {
        return evictable.size();
    }

    /** Share of prefix lookups that found their block cached. */
    public double prefixHitRate() {
        return prefixLookups == 0 ? 0 : (double) prefixHits / prefixLookups;
    }

    /** Full prompt blocks looked up in the prefix cache since the pool was made. */
    public long prefixLookups() {
        return prefixLookups;
    }

    /** Of the {@link #prefixLookups}, blocks found cached. */
    public long prefixHits() {
        return prefixHits;
    }

    /** A block for a sequence's new positions (refcount 1), or −1 when none is available. */
    int allocate() {
        Integer b = free.poll();
        if (b == null) {
            var it = evictable.keySet().iterator();
            if (!it.hasNext()) return -1;
            b = it.next();
            it.remove();
            byHash.remove(hashOf[b]);
            tokensOf[b] = null;
        }
        refs[b] = 1;
        return b;
    }

    /** The cached block holding exactly {@code tokens} after the prefix whose chain hash is {@code parent}, retained; or −1. */
    int lookup(long parent, int[] tokens) {
        prefixLookups++;
        Integer b = byHash.get(chain(parent, tokens));
        if (b == null || !Arrays.equals(tokensOf[b], tokens)) return -1;
        prefixHits++;
        if (refs[b]++ == 0) evictable.remove(b);
        return b;
    }

    /** Records that full block {@code b} holds {@code tokens} after prefix {@code parent}; returns its chain hash. */
    long register(int b, long parent, int[] tokens) {
        long h = chain(parent, tokens);
        if (!byHash.containsKey(h)) {
            byHash.put(h, b);
            hashOf[b] = h;
            tokensOf[b] = tokens.clone();
        }
        return h;
    }

    /** Drops one reference; an unreferenced block is cached for its prefix when registered, else freed. */
    void release(int b) {
        if (refs[b] <= 0) throw new IllegalStateException("KV block " + b + " released more often than held");
        if (--refs[b] > 0) return;
        if (tokensOf[b] != null && byHash.get(hashOf[b]) == b) evictable.put(b, Boolean.TRUE);
        else {
            tokensOf[b] = null;
            free.add(b);
        }
    }

    /** Layer {@code layer}'s keys of every block, (blocks, blockSize, kvHeads, headDim) of {@link #type}. */
    public Tensor keys(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s values of every block, like {@link #keys}. */
    public Tensor values(int layer) {
        return values[layer];
    }

    int layers() {
        return layers;
    }

    /** Contiguous scratch (1, positions, kvHeads, headDim) for gathering one sequence's keys or values; reused across calls. */
    Tensor[] scratch(int positions) {
        if (scratchK == null || scratchK.size(1) < positions) {
            int room = Math.max(positions, scratchK == null ? blockSize : 2 * scratchK.size(1));
            scratchK = Tensor.zeros(DType.F32, 1, room, kvHeads, headDim);
            scratchV = Tensor.zeros(DType.F32, 1, room, kvHeads, headDim);
        }
        return new Tensor[] {scratchK.narrow(1, 0, positions), scratchV.narrow(1, 0, positions)};
    }

    /** FNV-1a style chain over the parent hash and the block's tokens. */
    static long chain(long parent, int[] tokens) {
        long h = parent ^ 0xcbf29ce484222325L;
        for (int t : tokens) {
            h ^= t;
            h *= 0x100000001b3L;
            h ^= h >>> 29;
        }
        return h;
    }
}
