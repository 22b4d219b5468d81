package org.jtune.autograd;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * torch.index_copy along the last dim: y = x with columns ids[i] replaced by src[..., i].
 * Backward: dx = g with those columns zeroed, dsrc[..., i] = g[..., ids[i]].
 * Used to give trainable token rows their own logits in a tied LM head.
 */
public final class IndexCopy {
    private IndexCopy() {}

    public static Variable lastDim(Variable x, int[] ids, Variable src) {
        Tensor xv = x.value(), sv = src.value();
        if (sv.size(-1) != ids.length || sv.rank() != xv.rank()) {
            throw new IllegalArgumentException("index_copy: src " + java.util.Arrays.toString(sv.shape()) + " for " + ids.length
                    + " columns of " + java.util.Arrays.toString(xv.shape()));
        }
        Tensor y = xv.copy();
        int last = xv.rank() - 1;
        for (int i = 0; i < ids.length; i++) Ops.copyInto(sv.select(last, i), y.select(last, ids[i]));
        Tensor idx = Tensor.ofInts(ids.clone(), ids.length);
        boolean gx = x.requiresGrad(), gs = src.requiresGrad();
        return Graph.record("index_copy", y, g -> {
            Tensor dx = null;
            if (gx) {
                dx = g.copy();
                for (int id : ids) Ops.fill(dx.select(last, id), 0f);
            }
            return new Tensor[] {dx, gs ? Ops.indexSelect(g, last, idx) : null};
        }, x, src);
    }
}
