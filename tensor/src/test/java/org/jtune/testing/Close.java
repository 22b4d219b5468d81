package org.jtune.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.jtune.tensor.Tensor;

/**
 * Comparison of a computed tensor with a reference in double precision: |got − want| ≤ atol + rtol·|want|
 * elementwise, NaN only where the reference is NaN, infinities equal. Failures list the first few
 * mismatching indices with both values.
 */
public final class Close {
    private Close() {}

    public static void assertClose(double[] want, Tensor got, double rtol, double atol, String what) {
        float[] g = got.toFloatArray();
        if (g.length != want.length) fail(what + ": " + g.length + " elements, expected " + want.length);
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < want.length; i++) {
            double w = want[i], v = g[i];
            boolean ok;
            if (Double.isNaN(w)) ok = Double.isNaN(v);
            else if (Double.isInfinite(w)) ok = v == w;
            else ok = Math.abs(v - w) <= atol + rtol * Math.abs(w);
            if (!ok && count++ < 8) bad.append("\n  [").append(i).append("] got ").append(v).append(" want ").append(w);
        }
        if (count > 0) fail(what + ": " + count + " of " + want.length + " elements differ (rtol " + rtol + ", atol " + atol + ")" + bad);
    }

    /** Row-major values of any tensor (any strides/dtype) in double. */
    public static double[] values(Tensor t) {
        float[] f = t.toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
