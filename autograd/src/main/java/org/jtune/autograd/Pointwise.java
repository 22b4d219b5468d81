package org.jtune.autograd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Tensor;

/**
 * Elementwise kernels of two or three same-shape operands into a fresh F32 tensor, the building
 * block of the backward rules of elementwise ops (g·f'(x)) and of the fused SwiGLU. Each function
 * has a scalar form (the oracle, and the tail) and a Vector API form; operands that are not
 * contiguous heap F32 are copied first. Work is split across the pool in chunks.
 */
final class Pointwise {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN = 1 << 14;

    private Pointwise() {}

    interface Fn2 {
        float apply(float a, float b);

        FloatVector apply(FloatVector a, FloatVector b);
    }

    interface Fn3 {
        float apply(float a, float b, float c);

        FloatVector apply(FloatVector a, FloatVector b, FloatVector c);
    }

    /** A contiguous heap-F32 tensor with the values of t (t itself when it already is one). */
    static Tensor dense(Tensor t) {
        if (t.dtype() == DType.F32 && t.isContiguous() && t.storage().floatArray() != null) return t;
        return t.to(DType.F32);
    }

    static float[] array(Tensor t) {
        return t.storage().floatArray();
    }

    /**
     * out = a + b for same-shape tensors, out contiguous heap F32 (it may be a: in place). A plain
     * loop with the operator written out: the tensor module's binary kernel takes the operator as a
     * value, which the JIT does not turn into vector instructions (measured ~20× slower on the
     * gradient sums of a training step).
     */
    static void add(Tensor a, Tensor b, Tensor out) {
        Tensor da = dense(a), db = dense(b);
        float[] x = array(da), y = array(db), o = array(out);
        int xo = (int) da.offset(), yo = (int) db.offset(), oo = (int) out.offset();
        int n = (int) out.numel();
        Parallel.forRange((n + GRAIN - 1) / GRAIN, 1, (c0, c1) -> {
            int from = c0 * GRAIN, to = Math.min(c1 * GRAIN, n);
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).add(FloatVector.fromArray(S, y, yo + i)).intoArray(o, oo + i);
            }
            for (; i < to; i++) o[oo + i] = x[xo + i] + y[yo + i];
        });
    }

    /** a + b into a fresh tensor (same shapes). */
    static Tensor add(Tensor a, Tensor b) {
        Tensor out = Tensor.zeros(a.shape());
        add(a, b, out);
        return out;
    }

    /** True when t is contiguous heap F32 (the layout {@link #add(Tensor, Tensor, Tensor)} writes). */
    static boolean isDense(Tensor t) {
        return t.dtype() == DType.F32 && t.isContiguous() && t.storage().floatArray() != null;
    }

    static Tensor map(Tensor a, Tensor b, Fn2 f) {
        Tensor da = dense(a), db = dense(b);
        Tensor out = Tensor.zeros(a.shape());
        float[] x = array(da), y = array(db), o = array(out);
        int xo = (int) da.offset(), yo = (int) db.offset();
        int n = (int) out.numel();
        Parallel.forRange((n + GRAIN - 1) / GRAIN, 1, (c0, c1) -> {
            int from = c0 * GRAIN, to = Math.min(c1 * GRAIN, n);
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
                f.apply(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i)).intoArray(o, i);
            }
            for (; i < to; i++) o[i] = f.apply(x[xo + i], y[yo + i]);
        });
        return out;
    }

    static Tensor map(Tensor a, Tensor b, Tensor c, Fn3 f) {
        Tensor da = dense(a), db = dense(b), dc = dense(c);
        Tensor out = Tensor.zeros(a.shape());
        float[] x = array(da), y = array(db), z = array(dc), o = array(out);
        int xo = (int) da.offset(), yo = (int) db.offset(), zo = (int) dc.offset();
        int n = (int) out.numel();
        Parallel.forRange((n + GRAIN - 1) / GRAIN, 1, (c0, c1) -> {
            int from = c0 * GRAIN, to = Math.min(c1 * GRAIN, n);
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
                f.apply(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i), FloatVector.fromArray(S, z, zo + i))
                        .intoArray(o, i);
            }
            for (; i < to; i++) o[i] = f.apply(x[xo + i], y[yo + i], z[zo + i]);
        });
        return out;
    }
}
