package org.jtune.models.weights;

import org.jtune.autograd.Variable;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.ResidentMemory;
import org.jtune.tensor.Tensor;

/**
 * The weight layout of a model that only serves (no training, no export): every F32 and BF16 projection of whole groups
 * of 32 rows is repacked into {@link FloatRowGroups} (the same dtype, rows in groups stored column by column), where a
 * batch of sequences multiplies with the weights as they stream (bench/RESULTS.md: a served 16-sequence step of the
 * TinyLlama-1.1B shape 1.3 × faster in F32, one sequence faster too). The values are unchanged and so are the greedy
 * tokens up to the order of each sum (sequential over the input instead of in vector lanes); a served sequence gets the
 * same bits alone or batched, as before. F16 and block-quantized weights keep their layout, and so do the embeddings.
 * Off with {@code -Djtune.rowGroups=false}, and on CPUs with neither 16 nor 8 F32 lanes ({@link FloatRowGroups#worthPacking}).
 */
public final class ServingLayout {
    private ServingLayout() {}

    /** Repacks the table's F32 and BF16 projections in place; returns how many. A mapped source's pages are given back. */
    public static int packProjections(WeightTable table) {
        if (!FloatRowGroups.worthPacking()) return 0;
        int packed = 0;
        for (Weight w : table.all()) {
            if (w.role() != Weight.Role.LINEAR) continue;
            Tensor t = w.value().value();
            FloatRowGroups codec = FloatRowGroups.of(t.dtype());
            if (codec == null || t.rank() != 2 || !t.storage().isHost() || !FloatRowGroups.fits(t.size(0), t.size(1))) continue;
            w.set(Variable.constant(codec.interleaved(t)));
            long bytes = t.dtype().byteSize();   // a mapped source's pages given back (release ignores other memory)
            if (t.isContiguous()) ResidentMemory.release(t.storage().segment().asSlice(t.offset() * bytes, t.numel() * bytes));
            packed++;
        }
        return packed;
    }
}
