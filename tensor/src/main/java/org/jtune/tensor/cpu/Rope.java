package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Rotary position embedding (Su et al. 2021) in the Hugging Face rotate_half layout: for x (B, T, H, D)
 * and i &lt; D/2 with θ = pos · invFreq[i], the pair (x[i], x[i + D/2]) is rotated by θ (by −θ when
 * inverse, which is the backward pass and undoes the forward). θ, cos θ and sin θ are computed in
 * double once per (b, t) and shared by the H heads, so large positions keep full float accuracy; along
 * consecutive positions they step by angle addition ({@link #angles}). One read and one write per element.
 */
final class Rope {
    /** Exact cos/sin at every position that is a multiple of this; the ones between step from it. */
    static final int STEPS = 32;

    private Rope() {}

    static void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) {
        int b = x.size(0), t = x.size(1), h = x.size(2), d = x.size(3), half = d / 2;
        float[] freq = new float[half];
        new Rows(invFreq, 0).load(0, freq);
        double[] cosStep = new double[half], sinStep = new double[half];
        for (int i = 0; i < half; i++) {
            cosStep[i] = Math.cos(freq[i]);
            sinStep[i] = Math.sin(freq[i]);
        }
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        long p0 = positions.offset(), ps0 = positions.stride(0), ps1 = positions.stride(1);
        Parallel.forPieces(b * t, Rows.grain((long) h * d), 8, (r0, r1) -> {
            float[] cos = new float[half], sin = new float[half];
            double[] c = new double[half], s = new double[half];
            float[] buf = in.direct() ? null : new float[d];
            float[] obuf = o.direct() ? null : new float[d];
            long at = Long.MIN_VALUE; // the position c and s hold
            for (int bt = r0; bt < r1; bt++) {
                int pos = positions.storage().getInt(DType.I32, p0 + (bt / t) * ps0 + (bt % t) * ps1);
                if (pos != at) {
                    angles(pos, at, freq, cosStep, sinStep, c, s);
                    at = pos;
                    for (int i = 0; i < half; i++) {
                        cos[i] = (float) c[i];
                        sin[i] = (float) (inverse ? -s[i] : s[i]);
                    }
                }
                for (int head = 0; head < h; head++) {
                    int r = bt * h + head;
                    float[] a = in.arrayOf(r, buf);
                    int base = in.baseOf(r, buf);
                    float[] dst = obuf == null ? o.array() : obuf;
                    int dOff = obuf == null ? (int) o.offset(r) : 0;
                    rotate(a, base, cos, sin, half, dst, dOff);
                    if (obuf != null) o.store(r, obuf);
                }
            }
        });
    }

    /**
     * c[i], s[i] ← cos, sin of pos·freq[i] in double, as a function of pos alone (never of the thread
     * split): exact (Math.cos/sin) at k = pos − pos mod {@link #STEPS}, then pos mod STEPS steps of the
     * angle-addition rotation cos((p+1)f) = cos(pf)·cos f − sin(pf)·sin f, sin((p+1)f) = sin(pf)·cos f +
     * cos(pf)·sin f. When the previous position {@code at} is pos − 1 within the same stretch, one step
     * from it gives the same bits. Each step adds ≤ 4 ulp of double (≤ 2^−51 absolute), so after ≤ 31
     * steps the error is below 2^−46, far under the float rounding of the result (2^−25 near 1). Trig
     * calls drop from 2·D/2 per position to 2·D/2 per 32 consecutive positions: with D = 128 they cost
     * more than the rotation of 64 heads' rows.
     */
    private static void angles(int pos, long at, float[] freq, double[] cosStep, double[] sinStep, double[] c, double[] s) {
        int within = Math.floorMod(pos, STEPS);
        int from;
        if (within > 0 && at == (long) pos - 1) {
            from = pos - 1;
        } else {
            from = pos - within;
            for (int i = 0; i < freq.length; i++) {
                double theta = (double) from * freq[i];
                c[i] = Math.cos(theta);
                s[i] = Math.sin(theta);
            }
        }
        for (int p = from; p < pos; p++) {
            for (int i = 0; i < freq.length; i++) {
                double ci = c[i], si = s[i];
                c[i] = ci * cosStep[i] - si * sinStep[i];
                s[i] = si * cosStep[i] + ci * sinStep[i];
            }
        }
    }

    /** dst[i] = x[i]·c − x[i+h]·s, dst[i+h] = x[i+h]·c + x[i]·s for i &lt; h. */
    private static void rotate(float[] a, int off, float[] cos, float[] sin, int half, float[] dst, int dOff) {
        int i = 0;
        for (int bound = RowKernels.S.loopBound(half); i < bound; i += RowKernels.L) {
            FloatVector x1 = FloatVector.fromArray(RowKernels.S, a, off + i);
            FloatVector x2 = FloatVector.fromArray(RowKernels.S, a, off + half + i);
            FloatVector c = FloatVector.fromArray(RowKernels.S, cos, i);
            FloatVector s = FloatVector.fromArray(RowKernels.S, sin, i);
            x1.mul(c).sub(x2.mul(s)).intoArray(dst, dOff + i);
            x2.mul(c).add(x1.mul(s)).intoArray(dst, dOff + half + i);
        }
        for (; i < half; i++) {
            float x1 = a[off + i], x2 = a[off + half + i];
            dst[dOff + i] = x1 * cos[i] - x2 * sin[i];
            dst[dOff + half + i] = x2 * cos[i] + x1 * sin[i];
        }
    }
}
