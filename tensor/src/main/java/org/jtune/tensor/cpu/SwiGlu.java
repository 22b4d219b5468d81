package org.jtune.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.VectorMath;

/**
 * The gated unit of a Llama MLP (Shazeer 2020), y = silu(gate)∘up with silu(a) = a·σ(a), and its
 * backward for upstream g, which recomputes σ rather than saving anything:
 * d gate = g∘up∘σ(gate)·(1 + gate·(1 − σ(gate))) = g∘up∘(σ + silu·(1 − σ)),  d up = g∘silu(gate).
 * Loops are written out rather than passed a function object: a function object called inside a
 * shared loop is not inlined once several are in use, and the vector code then falls back to its
 * slow Java form. Operands that are not contiguous heap F32 are copied first; outputs are contiguous.
 * The forward reads two tensors and writes one in a single pass; the threads claim 16K-element chunks
 * ({@link Parallel#forClaimed}).
 */
final class SwiGlu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN = 1 << 14;

    private SwiGlu() {}

    static void forward(Tensor gate, Tensor up, Tensor out) {
        Tensor ad = Elementwise.dense(gate), bd = Elementwise.dense(up);
        float[] aa = Elementwise.arr(ad), ba = Elementwise.arr(bd), ya = Elementwise.arr(out);
        int ao = (int) ad.offset(), bo = (int) bd.offset(), yo = (int) out.offset();
        int n = (int) out.numel();
        int chunks = (n + GRAIN - 1) / GRAIN;
        Parallel.forPieces(chunks, 1, 8, (c0, c1) -> {
            int from = c0 * GRAIN, to = (int) Math.min((long) c1 * GRAIN, n);
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
                // silu(a) = a / (1 + e^−a): one division, where a·σ(a) takes a division and a product
                FloatVector av = FloatVector.fromArray(S, aa, ao + i);
                av.div(VectorMath.exp(av.neg()).add(1f)).mul(FloatVector.fromArray(S, ba, bo + i)).intoArray(ya, yo + i);
            }
            for (; i < to; i++) ya[yo + i] = (float) (aa[ao + i] / (1.0 + Math.exp(-aa[ao + i]))) * ba[bo + i];
        });
    }

    /** dGate and/or dUp (either may be null) for upstream g; σ computed once per element. */
    static void backward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp) {
        Tensor gd = Elementwise.dense(g), ad = Elementwise.dense(gate), bd = Elementwise.dense(up);
        float[] ga = Elementwise.arr(gd), aa = Elementwise.arr(ad), ba = Elementwise.arr(bd);
        float[] da = dGate == null ? null : Elementwise.arr(dGate), du = dUp == null ? null : Elementwise.arr(dUp);
        int go = (int) gd.offset(), ao = (int) ad.offset(), bo = (int) bd.offset();
        int dao = dGate == null ? 0 : (int) dGate.offset(), duo = dUp == null ? 0 : (int) dUp.offset();
        int n = (int) gd.numel();
        int chunks = (n + GRAIN - 1) / GRAIN;
        Parallel.forPieces(chunks, 1, 8, (c0, c1) -> {
            int from = c0 * GRAIN, to = (int) Math.min((long) c1 * GRAIN, n);
            if (da != null && du != null) both(ga, go, aa, ao, ba, bo, da, dao, du, duo, from, to);
            else if (da != null) gateOnly(ga, go, aa, ao, ba, bo, da, dao, from, to);
            else if (du != null) upOnly(ga, go, aa, ao, du, duo, from, to);
        });
    }

    private static void both(float[] ga, int go, float[] aa, int ao, float[] ba, int bo, float[] da, int dao, float[] du, int duo,
                             int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, ga, go + i), av = FloatVector.fromArray(S, aa, ao + i);
            FloatVector s = VectorMath.sigmoid(av), silu = av.mul(s);
            gv.mul(silu).intoArray(du, duo + i);
            gv.mul(FloatVector.fromArray(S, ba, bo + i)).mul(silu.mul(s.neg().add(1f)).add(s)).intoArray(da, dao + i);
        }
        for (; i < to; i++) {
            float s = sigmoid(aa[ao + i]), silu = aa[ao + i] * s;
            du[duo + i] = ga[go + i] * silu;
            da[dao + i] = ga[go + i] * ba[bo + i] * (s + silu * (1f - s));
        }
    }

    private static void gateOnly(float[] ga, int go, float[] aa, int ao, float[] ba, int bo, float[] da, int dao, int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, ga, go + i), av = FloatVector.fromArray(S, aa, ao + i);
            FloatVector s = VectorMath.sigmoid(av), silu = av.mul(s);
            gv.mul(FloatVector.fromArray(S, ba, bo + i)).mul(silu.mul(s.neg().add(1f)).add(s)).intoArray(da, dao + i);
        }
        for (; i < to; i++) {
            float s = sigmoid(aa[ao + i]), silu = aa[ao + i] * s;
            da[dao + i] = ga[go + i] * ba[bo + i] * (s + silu * (1f - s));
        }
    }

    private static void upOnly(float[] ga, int go, float[] aa, int ao, float[] du, int duo, int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, ga, go + i), av = FloatVector.fromArray(S, aa, ao + i);
            gv.mul(av.mul(VectorMath.sigmoid(av))).intoArray(du, duo + i);
        }
        for (; i < to; i++) du[duo + i] = ga[go + i] * (aa[ao + i] * sigmoid(aa[ao + i]));
    }

    private static float sigmoid(float a) {
        return (float) (1.0 / (1.0 + Math.exp(-a)));
    }
}
