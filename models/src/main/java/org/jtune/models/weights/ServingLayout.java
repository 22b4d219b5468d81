package org.jtune.models.weights;

import java.lang.foreign.MemorySegment;
import org.jtune.autograd.Variable;
import org.jtune.tensor.DType;
import org.jtune.tensor.F32RowGroups;
import org.jtune.tensor.ResidentMemory;
import org.jtune.tensor.Tensor;

/**
 * The weight layout of a model that only serves (no training, no export): every F32 projection of whole groups of 32
 * rows is repacked into {@link F32RowGroups}, where a batch of sequences multiplies with the weights as they stream
 * (a served 16-sequence step's products ran 1.35 × faster, one sequence's as fast; bench/RESULTS.md). Its values are
 * unchanged and so are the greedy tokens up to the order of each sum (sequential over the input instead of in vector
 * lanes): a served sequence gets the same bits alone or batched, as before. BF16, F16 and block-quantized weights keep
 * their layout (F32 would double the bytes each step reads), and so do the embeddings. Off with
 * {@code -Djtune.f32x32=false}, and on CPUs without 16 F32 lanes ({@link F32RowGroups#worthPacking}).
 */
public final class ServingLayout {
    private ServingLayout() {}

    /** Repacks the table's F32 projections in place; returns how many. A mapped source's pages are given back. */
    public static int packF32Projections(WeightTable table) {
        if (!F32RowGroups.worthPacking()) return 0;
        int packed = 0;
        for (Weight w : table.all()) {
            if (w.role() != Weight.Role.LINEAR) continue;
            Tensor t = w.value().value();
            if (t.dtype() != DType.F32 || t.rank() != 2 || !t.storage().isHost() || !F32RowGroups.fits(t.size(0), t.size(1))) continue;
            w.set(Variable.constant(F32RowGroups.interleaved(t)));
            MemorySegment stored = t.storage().segment();
            if (t.isContiguous() && stored.isMapped()) ResidentMemory.release(stored.asSlice(t.offset() * 4, t.numel() * 4));
            packed++;
        }
        return packed;
    }
}
