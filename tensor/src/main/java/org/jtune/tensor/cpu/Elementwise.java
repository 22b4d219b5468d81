package org.jtune.tensor.cpu;

import java.lang.foreign.MemorySegment;
import org.jtune.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.jtune.tensor.BinaryOp;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;

/**
 * Elementwise kernels: copy with dtype conversion, fill, unary functions, binary functions, where.
 * Inputs that are not heap F32 are first converted (a copy); outputs are heap F32. Runs of unit
 * stride use the Vector API with a scalar tail; other runs are scalar. Large tensors are split
 * across the pool by runs (or by chunks of one long run).
 */
final class Elementwise {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int GRAIN = 1 << 14;

    private Elementwise() {}

    /** A heap-F32 version of x (x itself when it already is). */
    static Tensor f32(Tensor x) {
        return x.dtype() == DType.F32 && x.storage().floatArray() != null ? x : x.to(DType.F32);
    }

    /** A contiguous heap-F32 tensor with the values of t (t itself when it already is one). */
    static Tensor dense(Tensor t) {
        if (isDense(t)) return t;
        Tensor out = Tensor.zeros(t.shape());
        copy(t, out);
        return out;
    }

    /** True when t is contiguous heap F32: element i of its row-major order is {@code arr(t)[offset + i]}. */
    static boolean isDense(Tensor t) {
        return t.dtype() == DType.F32 && t.isContiguous() && t.storage().floatArray() != null;
    }

    static float[] arr(Tensor t) {
        float[] a = t.storage().floatArray();
        if (a == null) throw new IllegalStateException("expected heap F32 storage, got " + t);
        return a;
    }

    // ---- copy ----------------------------------------------------------------------------------

    static void copy(Tensor src, Tensor dst) {
        StridedRuns runs = new StridedRuns(dst.shape(), new long[] {src.offset(), dst.offset()}, src.strides(), dst.strides());
        int inner = runs.inner();
        long ss = runs.innerStride(0), ds = runs.innerStride(1);
        DType st = src.dtype(), dt = dst.dtype();
        Storage sst = src.storage(), dsto = dst.storage();
        float[] sa = st == DType.F32 ? sst.floatArray() : null, da = dt == DType.F32 ? dsto.floatArray() : null;
        short[] sh = HalfVectors.shorts(src), dh = HalfVectors.shorts(dst); // BF16/F16 on the heap, unit stride along the last dim
        MemorySegment mapped = sh == null && (st == DType.BF16 || st == DType.F16) && sst.isHost() ? sst.segment() : null; // a mapped checkpoint
        boolean sameInt = st == dt && !st.isFloating();
        forRuns(runs, 2, (base, n0, n1) -> {
            long s0 = base[0] + n0 * ss, d0 = base[1] + n0 * ds;
            int n = n1 - n0;
            if (sa != null && da != null && ss == 1 && ds == 1) {
                System.arraycopy(sa, (int) s0, da, (int) d0, n);
            } else if (sh != null && da != null && ss == 1 && ds == 1) { // a 16-bit KV cache or checkpoint widened
                HalfVectors.widenRun(sh, (int) s0, da, (int) d0, n, st == DType.BF16);
            } else if (mapped != null && da != null && ss == 1 && ds == 1) {
                HalfVectors.widenRun(mapped, s0, da, (int) d0, n, st == DType.BF16);
            } else if (sa != null && dh != null && ss == 1 && ds == 1) { // ... and stored
                HalfVectors.narrowRun(sa, (int) s0, dh, (int) d0, n, dt == DType.BF16);
            } else if (sa != null && da != null) {
                for (int i = 0; i < n; i++) da[(int) (d0 + i * ds)] = sa[(int) (s0 + i * ss)];
            } else if (sameInt) {
                for (int i = 0; i < n; i++) dsto.setInt(dt, d0 + i * ds, sst.getInt(st, s0 + i * ss));
            } else {
                for (int i = 0; i < n; i++) dsto.setFloat(dt, d0 + i * ds, sst.getFloat(st, s0 + i * ss));
            }
        }, inner);
    }

    static void fill(Tensor dst, float value) {
        StridedRuns runs = new StridedRuns(dst.shape(), new long[] {dst.offset()}, dst.strides());
        long ds = runs.innerStride(0);
        DType dt = dst.dtype();
        float[] da = dt == DType.F32 ? dst.storage().floatArray() : null;
        forRuns(runs, 1, (base, n0, n1) -> {
            long d0 = base[0] + n0 * ds;
            if (da != null && ds == 1) java.util.Arrays.fill(da, (int) d0, (int) (d0 + n1 - n0), value);
            else for (int i = 0; i < n1 - n0; i++) dst.storage().setFloat(dt, d0 + i * ds, value);
        }, runs.inner());
    }

    // ---- unary ---------------------------------------------------------------------------------

    /** A function of one float, with a vector form for unit-stride runs. */
    interface FloatFn {
        float apply(float x);

        FloatVector apply(FloatVector x);
    }

    static FloatFn fn(UnaryOp op) {
        return switch (op) {
            case NEG -> of(x -> -x, v -> v.neg());
            case EXP -> of(VectorMath::exp, VectorMath::exp);
            case LOG -> scalarOnly(x -> (float) Math.log(x)); // no deterministic vector log yet
            case SQRT -> of(x -> (float) Math.sqrt(x), v -> v.sqrt());
            case RSQRT -> of(x -> (float) (1.0 / Math.sqrt(x)), v -> v.broadcast(1f).div(v.sqrt()));
            case ABS -> of(Math::abs, v -> v.abs());
            case TANH -> of(x -> (float) Math.tanh(x), VectorMath::tanh);
            case SIGMOID -> of(x -> (float) (1.0 / (1.0 + Math.exp(-x))),
                    VectorMath::sigmoid);
            case SILU -> of(x -> (float) (x / (1.0 + Math.exp(-x))),
                    v -> v.mul(VectorMath.sigmoid(v)));
            case GELU_TANH -> of(x -> (float) op.apply(x), v -> {
                FloatVector inner = v.mul(v).mul(v).mul(0.044715f).add(v).mul((float) Math.sqrt(2.0 / Math.PI));
                return v.mul(0.5f).mul(VectorMath.tanh(inner).add(1f));
            });
            case GELU_ERF -> scalarOnly(x -> (float) op.apply(x));
            case RELU -> of(x -> x > 0 ? x : (x != x ? x : 0f), v -> v.max(0f));
            case SQUARE -> of(x -> x * x, v -> v.mul(v));
            case RECIPROCAL -> of(x -> 1f / x, v -> v.broadcast(1f).div(v));
        };
    }

    private static FloatFn of(FloatScalar s, java.util.function.UnaryOperator<FloatVector> vec) {
        return new FloatFn() {
            public float apply(float x) {
                return s.apply(x);
            }

            public FloatVector apply(FloatVector x) {
                return vec.apply(x);
            }
        };
    }

    private static FloatFn scalarOnly(FloatScalar s) {
        return new FloatFn() {
            public float apply(float x) {
                return s.apply(x);
            }

            public FloatVector apply(FloatVector x) {
                float[] a = x.toArray();
                for (int i = 0; i < a.length; i++) a[i] = s.apply(a[i]);
                return FloatVector.fromArray(S, a, 0);
            }
        };
    }

    @FunctionalInterface
    interface FloatScalar {
        float apply(float x);
    }

    static void map(FloatFn f, Tensor x, Tensor out) {
        Tensor in = f32(x);
        float[] xa = arr(in), oa = arr(out);
        StridedRuns runs = new StridedRuns(out.shape(), new long[] {in.offset(), out.offset()}, in.strides(), out.strides());
        long xs = runs.innerStride(0), os = runs.innerStride(1);
        forRuns(runs, 2, (base, n0, n1) -> {
            int xi = (int) (base[0] + n0 * xs), oi = (int) (base[1] + n0 * os), n = n1 - n0;
            int i = 0;
            if (xs == 1 && os == 1) {
                for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                    f.apply(FloatVector.fromArray(S, xa, xi + i)).intoArray(oa, oi + i);
                }
            }
            for (; i < n; i++) oa[(int) (oi + i * os)] = f.apply(xa[(int) (xi + i * xs)]);
        }, runs.inner());
    }

    /** A function of two floats (a saved value and an upstream gradient), with a vector form. */
    interface FloatFn2 {
        float apply(float s, float g);

        FloatVector apply(FloatVector s, FloatVector g);
    }

    /** out ← f(s, g) elementwise for same-shape s and g (copied first unless contiguous heap F32); out contiguous F32. */
    static void map2(FloatFn2 f, Tensor s, Tensor g, Tensor out) {
        Tensor ds = dense(s), dg = dense(g);
        float[] x = arr(ds), y = arr(dg), o = arr(out);
        int xo = (int) ds.offset(), yo = (int) dg.offset(), oo = (int) out.offset();
        int n = (int) out.numel();
        Parallel.forRange((n + GRAIN - 1) / GRAIN, 1, (c0, c1) -> {
            int from = c0 * GRAIN, to = (int) Math.min((long) c1 * GRAIN, n);
            int i = from;
            for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
                f.apply(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i)).intoArray(o, oo + i);
            }
            for (; i < to; i++) o[oo + i] = f.apply(x[xo + i], y[yo + i]);
        });
    }

    // ---- binary --------------------------------------------------------------------------------

    static void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (isDense(a) && isDense(b) && isDense(out)) {
            denseBinary(op, arr(a), (int) a.offset(), arr(b), (int) b.offset(), arr(out), (int) out.offset(), (int) out.numel());
            return;
        }
        Tensor ta = f32(a), tb = f32(b);
        float[] aa = arr(ta), ba = arr(tb), oa = arr(out);
        StridedRuns runs = new StridedRuns(out.shape(), new long[] {ta.offset(), tb.offset(), out.offset()},
                ta.strides(), tb.strides(), out.strides());
        long as = runs.innerStride(0), bs = runs.innerStride(1), os = runs.innerStride(2);
        forRuns(runs, 3, (base, n0, n1) -> {
            int ai = (int) (base[0] + n0 * as), bi = (int) (base[1] + n0 * bs), oi = (int) (base[2] + n0 * os), n = n1 - n0;
            int i = 0;
            if (os == 1 && (as == 1 || as == 0) && (bs == 1 || bs == 0) && op != BinaryOp.POW) {
                i = vectorRun(op, aa, ai, as == 1, ba, bi, bs == 1, oa, oi, n);
            }
            for (; i < n; i++) {
                oa[(int) (oi + i * os)] = apply(op, aa[(int) (ai + i * as)], ba[(int) (bi + i * bs)]);
            }
        }, runs.inner());
    }

    /**
     * Same-shape contiguous operands (the sums of gradients in a backward pass, the residual adds):
     * chunks across the pool, each a plain loop with the operator written out. Taking the operator as
     * a value inside the loop (lanewise(op)) runs the Vector API's generic path, measured ~20× slower.
     */
    private static void denseBinary(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        Parallel.forPieces((n + GRAIN - 1) / GRAIN, 1, 4, (c0, c1) -> {
            int from = c0 * GRAIN, to = (int) Math.min((long) c1 * GRAIN, n);
            int i = from, bound = from + S.loopBound(to - from), step = S.length();
            switch (op) {
                case ADD -> { for (; i < bound; i += step) FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i); }
                case SUB -> { for (; i < bound; i += step) FloatVector.fromArray(S, a, ao + i).sub(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i); }
                case MUL -> { for (; i < bound; i += step) FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i); }
                case DIV -> { for (; i < bound; i += step) FloatVector.fromArray(S, a, ao + i).div(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i); }
                case MAX, MIN -> i = from + vectorRun(op, a, ao + from, true, b, bo + from, true, o, oo + from, to - from);
                case POW -> { }
            }
            for (; i < to; i++) o[oo + i] = apply(op, a[ao + i], b[bo + i]);
        });
    }

    /**
     * The vector part of a unit-stride (or broadcast-scalar) run; returns how many elements it did. The
     * operator is chosen outside each loop: a loop over lanewise(op) with op a variable runs the Vector
     * API's slow generic path.
     */
    private static int vectorRun(BinaryOp op, float[] a, int ai, boolean aVec, float[] b, int bi, boolean bVec, float[] o, int oi, int n) {
        int bound = S.loopBound(n), step = S.length(), i = 0;
        switch (op) {
            case ADD -> { for (; i < bound; i += step) load(a, ai, i, aVec).add(load(b, bi, i, bVec)).intoArray(o, oi + i); }
            case SUB -> { for (; i < bound; i += step) load(a, ai, i, aVec).sub(load(b, bi, i, bVec)).intoArray(o, oi + i); }
            case MUL -> { for (; i < bound; i += step) load(a, ai, i, aVec).mul(load(b, bi, i, bVec)).intoArray(o, oi + i); }
            case DIV -> { for (; i < bound; i += step) load(a, ai, i, aVec).div(load(b, bi, i, bVec)).intoArray(o, oi + i); }
            case MAX, MIN -> {
                for (; i < bound; i += step) {
                    FloatVector va = load(a, ai, i, aVec), vb = load(b, bi, i, bVec);
                    FloatVector r = op == BinaryOp.MAX ? va.max(vb) : va.min(vb);
                    // NaN propagates, as in the scalar definition
                    VectorMask<Float> nan = va.test(VectorOperators.IS_NAN).or(vb.test(VectorOperators.IS_NAN));
                    r.blend(Float.NaN, nan).intoArray(o, oi + i);
                }
            }
            case POW -> { }
        }
        return i;
    }

    private static FloatVector load(float[] a, int base, int i, boolean vector) {
        return vector ? FloatVector.fromArray(S, a, base + i) : FloatVector.broadcast(S, a[base]);
    }

    static float apply(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) Math.pow(a, b);
            case MAX -> a != a || b != b ? Float.NaN : Math.max(a, b);
            case MIN -> a != a || b != b ? Float.NaN : Math.min(a, b);
        };
    }

    static void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        Tensor ta = f32(a), tb = f32(b);
        float[] aa = arr(ta), ba = arr(tb), oa = arr(out);
        StridedRuns runs = new StridedRuns(out.shape(), new long[] {cond.offset(), ta.offset(), tb.offset(), out.offset()},
                cond.strides(), ta.strides(), tb.strides(), out.strides());
        long cs = runs.innerStride(0), as = runs.innerStride(1), bs = runs.innerStride(2), os = runs.innerStride(3);
        Storage cst = cond.storage();
        DType cdt = cond.dtype();
        forRuns(runs, 4, (base, n0, n1) -> {
            for (int i = n0; i < n1; i++) {
                boolean c = cst.getFloat(cdt, base[0] + i * cs) != 0f;
                oa[(int) (base[3] + i * os)] = c ? aa[(int) (base[1] + i * as)] : ba[(int) (base[2] + i * bs)];
            }
        }, runs.inner());
    }

    // ---- work splitting ------------------------------------------------------------------------

    /** Body over elements [n0, n1) of one run whose operand offsets are in base. */
    @FunctionalInterface
    interface RunBody {
        void run(long[] base, int n0, int n1);
    }

    /**
     * Calls body for every run; work is split across threads by runs, or, when there are few long
     * runs, by chunks inside each run.
     */
    static void forRuns(StridedRuns runs, int operands, RunBody body, int inner) {
        long outer = runs.outer();
        long total = outer * inner;
        if (total == 0) return;
        if (outer == 1) {
            long[] base = new long[operands];
            runs.bases(0, base);
            int chunks = (inner + GRAIN - 1) / GRAIN;
            Parallel.forRange(chunks, 1, (c0, c1) -> {
                int from = c0 * GRAIN, to = (int) Math.min((long) c1 * GRAIN, inner);
                body.run(base, from, to);
            });
            return;
        }
        int grainRuns = (int) Math.max(1, GRAIN / Math.max(inner, 1));
        Parallel.forRange((int) outer, grainRuns, (r0, r1) -> {
            long[] base = new long[operands];
            for (int r = r0; r < r1; r++) {
                runs.bases(r, base);
                body.run(base, 0, inner);
            }
        });
    }
}
