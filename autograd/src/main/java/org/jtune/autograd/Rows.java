package org.jtune.autograd;

import org.jtune.tensor.BackwardOps;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * Row gathering and scattering of a 2-D variable, each the other's gradient (torch's index_select along dim 0 and
 * index_add_ into zeros): {@link #select} y[i] = x[rows[i]], backward dx[rows[i]] += g[i]; {@link #scatter}
 * y = zeros(n, D) with y[rows[i]] += src[i], backward dsrc[i] = g[rows[i]]. A row picked twice adds up, in index order
 * (deterministic). A mixture-of-experts layer sends each token's row to its experts and adds their answers back with these.
 */
public final class Rows {
    private Rows() {}

    /** x (N, D) at the given rows (I32, 1-D, each in [0, N)): (rows, D). */
    public static Variable select(Variable x, Tensor rows) {
        check("select", x, rows, x.size(0));
        int n = x.size(0);
        Tensor y = Ops.indexSelect(x.value(), 0, rows);
        return Graph.record("select_rows", y, g -> new Tensor[] {BackwardOps.embedding(g, rows, n)}, x);
    }

    /** An (n, D) variable of zeros with each src (rows, D) row added at its row index (each in [0, n)). */
    public static Variable scatter(Variable src, Tensor rows, int n) {
        check("scatter", src, rows, n);
        if (rows.size(0) != src.size(0)) {
            throw new IllegalArgumentException("scatter_rows: " + rows.size(0) + " indices for " + src.size(0) + " rows");
        }
        Tensor y = BackwardOps.embedding(src.value(), rows, n);
        return Graph.record("scatter_rows", y, g -> new Tensor[] {Ops.indexSelect(g, 0, rows)}, src);
    }

    private static void check(String op, Variable x, Tensor rows, int n) {
        if (x.value().rank() != 2) throw new IllegalArgumentException(op + "_rows: a 2-D variable is needed, got " + java.util.Arrays.toString(x.shape()));
        if (rows.rank() != 1) throw new IllegalArgumentException(op + "_rows: indices must be 1-D, got " + java.util.Arrays.toString(rows.shape()));
        for (int r : rows.toIntArray()) {
            if (r < 0 || r >= n) throw new IllegalArgumentException(op + "_rows: row " + r + " outside [0, " + n + ")");
        }
    }
}
