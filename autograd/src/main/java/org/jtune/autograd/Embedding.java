package org.jtune.autograd;

import java.util.Map;
import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Differentiable embedding lookup: y[i] = W[ids[i]] for ids of any shape, y of shape ids.shape + (D).
 * The backward is a scatter-add of gradient rows, dW[ids[i]] += g[i], touching only the rows used
 * (in position order: deterministic); a trainable table receives it straight into its gradient
 * buffer. With {@link TrainableRows} the chosen tokens read from (and send gradient to) their own
 * small (R, D) variable, and the full table may stay frozen: no (V, D) gradient is ever allocated.
 */
public final class Embedding {
    private Embedding() {}

    public static Variable apply(Variable weight, Tensor ids) {
        Tensor wv = weight.value();
        Tensor y = Ops.embedding(wv, ids);
        return Graph.record("embedding", y, g -> new Tensor[] {scatterRows(weight, g, ids)}, weight);
    }

    public static Variable apply(Variable weight, Tensor ids, TrainableRows trainable) {
        Tensor wv = weight.value();
        int d = wv.size(1);
        if (trainable.values().size(1) != d) {
            throw new IllegalArgumentException("embedding: trainable rows of width " + trainable.values().size(1) + " for a table of width " + d);
        }
        Map<Integer, Integer> index = trainable.index();
        int[] flat = ids.toIntArray();
        int[] row = new int[flat.length];      // row in the trainable values, or −1
        int[] tableRow = new int[flat.length]; // row in the table, or −1 when overridden
        for (int i = 0; i < flat.length; i++) {
            Integer r = index.get(flat[i]);
            row[i] = r == null ? -1 : r;
            tableRow[i] = r == null ? flat[i] : -1;
        }
        Tensor y = Ops.embedding(wv, ids);
        Tensor y2 = y.view(-1, d);
        Tensor rv = trainable.values().value();
        for (int i = 0; i < flat.length; i++) {
            if (row[i] >= 0) Ops.copyInto(rv.select(0, row[i]), y2.select(0, i));
        }
        Tensor rowIds = Tensor.ofInts(row, flat.length), tableIds = Tensor.ofInts(tableRow, flat.length);
        Variable values = trainable.values();
        boolean gw = weight.requiresGrad(), gr = values.requiresGrad();
        return Graph.record("embedding_rows", y, g -> {
            Tensor g2 = g.reshape(-1, d);
            return new Tensor[] {gw ? scatterRows(weight, g2, tableIds) : null, gr ? scatterRows(values, g2, rowIds) : null};
        }, weight, values);
    }

    /**
     * The gradient of {@code table} for upstream g at ids: written straight into the table's gradient
     * buffer when it is a parameter (null is returned: nothing left to deliver), else a new (rows, D) tensor.
     */
    private static Tensor scatterRows(Variable table, Tensor g, Tensor ids) {
        if (!table.isLeaf()) return BackwardOps.embedding(g, ids, table.size(0));
        table.writeGrad((buffer, accumulate) -> {
            if (!accumulate) Ops.fill(buffer, 0f);
            BackwardOps.embeddingInto(g, ids, buffer);
        });
        return null;
    }
}
