package org.jtune.autograd;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;

/**
 * Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so the
 * expectation is unchanged. The mask m (0 or 1/(1 − p)) is drawn from the caller's {@link Rng} in
 * row-major order and kept for the backward: y = x∘m, dx = g∘m. p = 0 is the identity and draws
 * nothing.
 */
public final class Dropout {
    private Dropout() {}

    public static Variable apply(Variable x, float p, Rng rng) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        if (p == 0f) return x;
        Tensor mask = Tensor.zeros(x.shape());
        float[] m = mask.storage().floatArray();
        float keep = 1f / (1f - p);
        for (int i = 0; i < m.length; i++) m[i] = rng.nextFloat() >= p ? keep : 0f;
        Tensor onDevice = mask.to(x.value().device()); // drawn on the host, in row-major order
        return Graph.record("dropout", Ops.mul(x.value(), onDevice), g -> new Tensor[] {Ops.mul(g, onDevice)}, x);
    }
}
