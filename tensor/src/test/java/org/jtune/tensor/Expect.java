package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

/**
 * Comparison of a backend's output with the scalar reference: same shape, and elementwise
 * |got − want| ≤ tol (per element, or atol + rtol·|want|), NaN exactly where the reference is NaN,
 * infinities equal. A failure lists the first mismatches with their multi-indices.
 */
final class Expect {
    private Expect() {}

    static void close(String what, Tensor got, Ref want, double rtol, double atol) {
        double[] tol = new double[want.numel()];
        for (int i = 0; i < tol.length; i++) tol[i] = atol + rtol * Math.abs(want.v()[i]);
        close(what, got, want, tol);
    }

    static void close(String what, Tensor got, Ref want, double[] tol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] g = Ref.of(got).v();
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < g.length; i++) {
            double w = want.v()[i], v = g[i];
            boolean ok;
            if (Double.isNaN(w)) ok = Double.isNaN(v);
            else if (Double.isInfinite(w)) ok = v == w;
            else ok = Math.abs(v - w) <= tol[i];
            if (!ok && count++ < 6) {
                bad.append("\n  ").append(Arrays.toString(want.unravel(i))).append(" got ").append(v).append(" want ").append(w)
                        .append(" (tol ").append(tol[i]).append(')');
            }
        }
        if (count > 0) fail(what + ": " + count + " of " + g.length + " elements differ" + bad);
    }

    /** Exact equality (integer outputs, copies). */
    static void equal(String what, Tensor got, Ref want) {
        close(what, got, want, 0, 0);
    }
}
