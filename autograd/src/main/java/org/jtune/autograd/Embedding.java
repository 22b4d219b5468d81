package org.jtune.autograd;

import java.util.Arrays;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.Backend;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Differentiable embedding lookup: y[i] = W[ids[i]] for ids of any shape, y of shape ids.shape + (D).
 * The backward is a scatter-add of gradient rows, dW[ids[i]] += g[i], touching only the rows used.
 * With {@link TrainableRows} the chosen tokens read from (and send gradient to) their own small
 * (R, D) variable, and the full table may stay frozen: no (V, D) gradient is ever allocated.
 * Scatter-add order is fixed (by position), split across threads by columns: deterministic.
 */
public final class Embedding {
    private Embedding() {}

    public static Variable apply(Variable weight, Tensor ids) {
        Tensor wv = weight.value();
        Tensor y = Ops.embedding(wv, ids);
        int v = wv.size(0), d = wv.size(1);
        int[] flat = ids.toIntArray();
        return Graph.record("embedding", y, g -> new Tensor[] {scatterRows(g, flat, v, d)}, weight);
    }

    public static Variable apply(Variable weight, Tensor ids, TrainableRows trainable) {
        Tensor wv = weight.value();
        int v = wv.size(0), d = wv.size(1);
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
            if (row[i] >= 0) Backend.cpu().copy(rv.select(0, row[i]), y2.select(0, i));
        }
        int rows = rv.size(0);
        boolean gw = weight.requiresGrad(), gr = trainable.values().requiresGrad();
        return Graph.record("embedding_rows", y, g -> new Tensor[] {
                gw ? scatterRows(g, tableRow, v, d) : null,
                gr ? scatterRows(g, row, rows, d) : null}, weight, trainable.values());
    }

    /** out (rows, d) with out[target[i]] += g[i] for every i whose target is ≥ 0. */
    static Tensor scatterRows(Tensor g, int[] target, int rows, int d) {
        Tensor gd = Pointwise.dense(g);
        float[] ga = Pointwise.array(gd);
        int go = (int) gd.offset();
        for (int t : target) {
            if (t >= rows) throw new IllegalArgumentException("embedding: id " + t + " outside [0, " + rows + ")");
        }
        Tensor out = Tensor.zeros(rows, d);
        float[] o = Pointwise.array(out);
        var S = Pointwise.S;
        Parallel.forRange(d, Math.max(S.length(), 256), (c0, c1) -> {
            for (int i = 0; i < target.length; i++) {
                if (target[i] < 0) continue;
                int ob = target[i] * d, gb = go + i * d;
                int c = c0;
                for (int bound = c0 + S.loopBound(c1 - c0); c < bound; c += S.length()) {
                    FloatVector.fromArray(S, o, ob + c).add(FloatVector.fromArray(S, ga, gb + c)).intoArray(o, ob + c);
                }
                for (; c < c1; c++) o[ob + c] += ga[gb + c];
            }
        });
        return out;
    }

}
