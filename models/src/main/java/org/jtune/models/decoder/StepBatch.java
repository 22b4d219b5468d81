package org.jtune.models.decoder;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.Variable;
import org.jtune.models.SequenceChunk;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * The chunks of one inference step ({@link org.jtune.models.CausalLM#step}) packed into one row of
 * tokens for a decoder's layers: their ids and positions (each chunk continues its own cache), the
 * adapter routing by run, and per-layer attention of each chunk against its own KV cache. The
 * layers themselves run once over the packed row, so projections and MLPs batch across sequences.
 */
public final class StepBatch {
    private final List<SequenceChunk> chunks;
    private final int[] offsets, last;
    private final Tensor ids, positions;
    private final AdapterRouting routing;

    public StepBatch(List<SequenceChunk> chunks) {
        this.chunks = List.copyOf(chunks);
        int n = 0;
        for (SequenceChunk c : chunks) n += c.tokens().length;
        int[] idArray = new int[n], pos = new int[n];
        offsets = new int[chunks.size()];
        last = new int[chunks.size()];
        List<AdapterRouting.Run> runs = new ArrayList<>();
        int at = 0;
        for (int s = 0; s < chunks.size(); s++) {
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
            last[s] = at - 1;
        }
        ids = Tensor.ofInts(idArray, 1, n);
        positions = Tensor.ofInts(pos, 1, n);
        routing = AdapterRouting.runs(runs);
    }

    /** Token ids (1, n) I32 of all chunks, in chunk order. */
    public Tensor ids() {
        return ids;
    }

    /** Absolute positions (1, n) I32: each chunk's start at its cache's length. */
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
     * {@code window} (0: none). Returns (1, n, heads, headDim).
     */
    public Variable attend(int layer, Variable q, Variable k, Variable v, int window) {
        List<Tensor> outs = new ArrayList<>();
        for (int s = 0; s < chunks.size(); s++) {
            SequenceChunk c = chunks.get(s);
            int t = c.tokens().length;
            Tensor[] kv = c.cache().append(layer, k.value().narrow(1, offsets[s], t), v.value().narrow(1, offsets[s], t));
            AttentionMask mask = new AttentionMask(true, window, c.cache().length(), null);
            outs.add(Ops.attention(q.value().narrow(1, offsets[s], t), kv[0], kv[1], mask, 0f));
        }
        return Variable.constant(outs.size() == 1 ? outs.getFirst() : Ops.concat(outs, 1));
    }

    /** The rows (chunks, dim) of each chunk's last token from hidden states (1, n, dim). */
    public Variable lastRows(Variable hidden) {
        int n = hidden.size(1), dim = hidden.size(2);
        return Variable.constant(Ops.indexSelect(hidden.value().reshape(n, dim), 0, Tensor.ofInts(last, last.length)));
    }

    /** The routing of {@link #lastRows}: one row per chunk, with its adapter. */
    public AdapterRouting lastRouting() {
        List<AdapterRouting.Run> runs = new ArrayList<>();
        for (int s = 0; s < chunks.size(); s++) runs.add(new AdapterRouting.Run(s, 1, chunks.get(s).adapter()));
        return AdapterRouting.runs(runs);
    }
}
