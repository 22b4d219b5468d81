package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Rotary position embedding (Su et al. 2021) in the Hugging Face rotate_half layout: for x (B, T, H, D)
 * and i &lt; D/2 with θ = pos · invFreq[i], the pair (x[i], x[i + D/2]) is rotated by θ (by −θ when
 * inverse, which is the backward pass and undoes the forward). θ, cos θ and sin θ are computed in
 * double once per (b, t) and shared by the H heads, so large positions keep full float accuracy.
 */
final class Rope {
    private Rope() {}

    static void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) {
        int b = x.size(0), t = x.size(1), h = x.size(2), d = x.size(3), half = d / 2;
        float[] freq = new float[half];
        new Rows(invFreq, 0).load(0, freq);
        Rows in = Rows.lastDim(x);
        Rows o = Rows.lastDim(out);
        long p0 = positions.offset(), ps0 = positions.stride(0), ps1 = positions.stride(1);
        Parallel.forPieces(b * t, Rows.grain((long) h * d * 2), (r0, r1) -> {
            float[] cos = new float[half], sin = new float[half];
            float[] buf = in.direct() ? null : new float[d];
            float[] obuf = o.direct() ? null : new float[d];
            for (int bt = r0; bt < r1; bt++) {
                int pos = positions.storage().getInt(DType.I32, p0 + (bt / t) * ps0 + (bt % t) * ps1);
                for (int i = 0; i < half; i++) {
                    double theta = (double) pos * freq[i];
                    cos[i] = (float) Math.cos(theta);
                    sin[i] = (float) (inverse ? -Math.sin(theta) : Math.sin(theta));
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
