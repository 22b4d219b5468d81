package org.jtune.models.decoder;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.OpProfile;
import org.jtune.autograd.Variable;
import org.jtune.models.SequenceChunk;
import org.jtune.models.kv.KvBlockPool;
import org.jtune.models.kv.PagedKvCache;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Ops;
import org.jtune.tensor.PagedRows;
import org.jtune.tensor.Tensor;

/**
 * The chunks of one inference step ({@link org.jtune.models.CausalLM#step}) packed into one row of
 * tokens for a decoder's layers: their ids and positions (each chunk continues its own cache), the
 * adapter routing by run, and per-layer attention of each chunk against its own KV cache. The
 * layers themselves run once over the packed row, so projections and MLPs batch across sequences.
 * Chunks are packed grouped by adapter, so that each adapter's rows are one run; {@link #lastRows}
 * gives the rows back in chunk order.
 */
public final class StepBatch {
    private final List<SequenceChunk> chunks;
    private final int[] offsets, last;
    private final List<Integer> packed; // chunk indices in row order
    private final Tensor ids, positions;
    private final AdapterRouting routing;

    public StepBatch(List<SequenceChunk> chunks) {
        this.chunks = List.copyOf(chunks);
        int n = 0;
        for (SequenceChunk c : chunks) n += c.tokens().length;
        int[] idArray = new int[n], pos = new int[n];
        offsets = new int[chunks.size()];
        List<AdapterRouting.Run> runs = new ArrayList<>();
        int at = 0;
        packed = byAdapter(chunks);
        for (int s : packed) { // rows grouped by adapter: each adapter's rows are one run, one multiply
            SequenceChunk c = chunks.get(s);
            int t = c.tokens().length, start = c.cache().length();
            if (start + t > c.cache().capacity()) {
                throw new IllegalArgumentException("sequence " + s + ": " + start + " cached + " + t + " new positions exceed its cache of "
                        + c.cache().capacity());
            }
            System.arraycopy(c.tokens(), 0, idArray, at, t);
            for (int i = 0; i < t; i++) pos[at + i] = start + i;
            offsets[s] = at;
            runs.add(new AdapterRouting.Run(at, t, c.adapter()));
            at += t;
        }
        int rows = 0;
        for (SequenceChunk c : chunks) rows += c.logitRows();
        last = new int[rows];
        int r = 0;
        for (int s = 0; s < chunks.size(); s++) { // in chunk order: each chunk's last logitRows positions
            SequenceChunk c = chunks.get(s);
            for (int i = c.tokens().length - c.logitRows(); i < c.tokens().length; i++) last[r++] = offsets[s] + i;
        }
        ids = Tensor.ofInts(idArray, 1, n);
        positions = Tensor.ofInts(pos, 1, n);
        routing = AdapterRouting.runs(runs);
    }

    /** Chunk indices ordered by adapter (the base model first, then adapters by name), chunk order within each. */
    private static List<Integer> byAdapter(List<SequenceChunk> chunks) {
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < chunks.size(); s++) order.add(s);
        order.sort(java.util.Comparator.comparing((Integer s) -> chunks.get(s).adapter(),
                java.util.Comparator.nullsFirst(java.util.Comparator.naturalOrder())));
        return order;
    }

    /** Token ids (1, n) I32 of all chunks, grouped by adapter (see {@link #byAdapter}). */
    public Tensor ids() {
        return ids;
    }

    /** Absolute positions (1, n) I32, in the order of {@link #ids}: each chunk's start at its cache's length. */
    public Tensor positions() {
        return positions;
    }

    /** Each chunk's rows routed to its adapter. */
    public AdapterRouting routing() {
        return routing;
    }

    /**
     * Attention of {@code layer} for every chunk: its keys and values k, v (1, n, kvHeads, headDim)
     * are appended to its own cache and its queries attend over the whole cache, causal within
     * {@code window} (0: none). Returns (1, n, heads, headDim). When every cache is blocks of one pool
     * ({@link PagedKvCache}), the new positions are written there and all chunks attend in one call that
     * reads the blocks in place ({@link Ops#pagedAttention}: the bits of gathering them); else each chunk
     * attends over its own cache's keys and values, one call each.
     */
    public Variable attend(int layer, Variable q, Variable k, Variable v, int window) {
        KvBlockPool pool = sharedPool();
        if (pool == null) return attendEach(layer, q, k, v, window);
        int n = chunks.size();
        int[][] tables = new int[n][];
        int[] start = new int[n], count = new int[n], length = new int[n];
        for (int s = 0; s < n; s++) {
            PagedKvCache cache = (PagedKvCache) chunks.get(s).cache();
            count[s] = chunks.get(s).tokens().length;
            start[s] = offsets[s];
            cache.write(layer, k.value().narrow(1, start[s], count[s]), v.value().narrow(1, start[s], count[s]));
            tables[s] = cache.blockTable();
            length[s] = cache.length() + count[s];
        }
        Tensor out = Ops.zerosOn(q.value(), q.value().shape());
        Ops.pagedAttention(q.value(), pool.keys(layer), pool.values(layer), new PagedRows(tables, start, count, length), window, 0f, out);
        OpProfile.mark("attention");
        return Variable.constant(out);
    }

    /** The pool whose blocks hold every chunk's cache, or null when some cache is not paged or the pools differ. */
    private KvBlockPool sharedPool() {
        KvBlockPool pool = null;
        for (SequenceChunk c : chunks) {
            if (!(c.cache() instanceof PagedKvCache p) || pool != null && p.pool() != pool) return null;
            pool = p.pool();
        }
        return pool;
    }

    /** {@link #attend} over each chunk's cache on its own (a paged one gathers its positions), one attention call per chunk. */
    private Variable attendEach(int layer, Variable q, Variable k, Variable v, int window) {
        List<Tensor> outs = new ArrayList<>();
        for (int s : packed) { // row order
            SequenceChunk c = chunks.get(s);
            int t = c.tokens().length;
            Tensor[] kv = c.cache().append(layer, k.value().narrow(1, offsets[s], t), v.value().narrow(1, offsets[s], t));
            AttentionMask mask = new AttentionMask(true, window, c.cache().length(), null);
            outs.add(Ops.attention(q.value().narrow(1, offsets[s], t), kv[0], kv[1], mask, 0f));
        }
        Variable out = Variable.constant(outs.size() == 1 ? outs.getFirst() : Ops.concat(outs, 1));
        OpProfile.mark("attention");
        return out;
    }

    /** The rows (Σ logitRows, dim) of each chunk's last logitRows tokens, in chunk order, from hidden states (1, n, dim). */
    public Variable lastRows(Variable hidden) {
        int n = hidden.size(1), dim = hidden.size(2);
        return Variable.constant(Ops.indexSelect(hidden.value().reshape(n, dim), 0, Tensor.ofInts(last, last.length)));
    }

    /** The routing of {@link #lastRows}: each chunk's rows, with its adapter. */
    public AdapterRouting lastRouting() {
        List<AdapterRouting.Run> runs = new ArrayList<>();
        int at = 0;
        for (SequenceChunk c : chunks) {
            runs.add(new AdapterRouting.Run(at, c.logitRows(), c.adapter()));
            at += c.logitRows();
        }
        return AdapterRouting.runs(runs);
    }
}
