package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Row select and scatter against a scalar double reference, and their gradients by central differences. Both maps are
 * linear and copy or add values, so differences with step 1 are exact (as in {@link ViewsGradTest}): the tolerance is tight.
 */
class RowsGradTest {
    private static final GradCheck.Tolerance EXACT = new GradCheck.Tolerance(1e-6, 1e-6);

    @Test
    void selectAndScatterMatchTheScalarReference() {
        Rng rng = new Rng(11);
        for (boolean strided : new boolean[] {false, true}) {
            for (int[] shape : new int[][] {{7, 5}, {1, 3}, {13, 1}, {9, 17}}) {
                int n = shape[0], d = shape[1];
                if (strided && (n == 1 || d == 1)) continue; // a view with a unit dimension is contiguous
                Tensor x = Refs.randn(rng, 1f, strided, n, d);
                int[] rows = randomRows(rng, 2 * n + 1, n); // repeats on purpose
                Tensor idx = Tensor.ofInts(rows, rows.length);
                Tensor picked = Rows.select(Variable.constant(x), idx).value();
                for (int i = 0; i < rows.length; i++) {
                    for (int j = 0; j < d; j++) assertEquals(x.get(rows[i], j), picked.get(i, j), 0f);
                }
                Tensor src = Refs.randn(rng, 1f, strided && d > 1, rows.length, d);
                Tensor added = Rows.scatter(Variable.constant(src), idx, n + 2).value();
                double[][] want = new double[n + 2][d];
                for (int i = 0; i < rows.length; i++) for (int j = 0; j < d; j++) want[rows[i]][j] += src.get(i, j);
                for (int r = 0; r < n + 2; r++) for (int j = 0; j < d; j++) assertEquals(want[r][j], added.get(r, j), 1e-5);
            }
        }
    }

    @Test
    void eachIsTheOthersGradient() {
        Rng rng = new Rng(12);
        for (boolean strided : new boolean[] {false, true}) {
            Tensor x = Refs.randn(rng, 1f, strided, 6, 5);
            Tensor idx = Tensor.ofInts(new int[] {4, 0, 4, 2, 5, 4, 1}, 7);
            GradCheck.againstSelf(in -> Rows.select(in[0], idx), new Variable[] {Variable.parameter(x)}, 1.0, EXACT, 1).assertPassed();
            Tensor src = Refs.randn(rng, 1f, strided, 7, 5);
            GradCheck.againstSelf(in -> Rows.scatter(in[0], idx, 8), new Variable[] {Variable.parameter(src)}, 1.0, EXACT, 2).assertPassed();
            // the mixture's round trip: rows out to experts, scaled, and added back
            GradCheck.againstSelf(in -> Rows.scatter(Arithmetic.scale(Rows.select(in[0], idx), 3f), idx, 6),
                    new Variable[] {Variable.parameter(x)}, 1.0, EXACT, 3).assertPassed();
        }
    }

    @Test
    void badIndicesAreRefusedByName() {
        Variable x = Variable.constant(Tensor.zeros(3, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> Rows.select(x, Tensor.ofInts(new int[] {0, 3}, 2)));
        assertTrue(e.getMessage().contains("row 3 outside [0, 3)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Rows.scatter(x, Tensor.ofInts(new int[] {0, 1}, 2), 4));
        assertThrows(IllegalArgumentException.class, () -> Rows.select(Variable.constant(Tensor.zeros(3)), Tensor.ofInts(new int[] {0}, 1)));
    }

    private static int[] randomRows(Rng rng, int count, int n) {
        int[] rows = new int[count];
        for (int i = 0; i < count; i++) rows[i] = (int) Math.floor(rng.nextFloat() * n) % n;
        return rows;
    }
}
