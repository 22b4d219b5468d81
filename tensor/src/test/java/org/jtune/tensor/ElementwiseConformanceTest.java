package org.jtune.tensor;

import static org.jtune.tensor.Layouts.NORMAL;
import static org.jtune.tensor.Layouts.describe;
import static org.jtune.tensor.Layouts.uniform;

import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Elementwise ops of every backend against scalar double formulas written here: every unary op,
 * affine, pow (scalar and tensor exponents), clamp, every binary op with broadcasting, where, fill,
 * and copy between every pair of dtypes. Inputs: random shapes (odd sizes, 1000-long dims, empty
 * dims) in random layouts (permuted, narrowed, stepped, expanded) and dtypes (F32, BF16, F16).
 */
class ElementwiseConformanceTest {
    /** Unit roundoff of F32. */
    static final double U = 0x1p-24;

    static Ref map(Ref x, DoubleUnaryOperator f) {
        double[] v = new double[x.numel()];
        for (int i = 0; i < v.length; i++) v[i] = f.applyAsDouble(x.v()[i]);
        return new Ref(x.shape(), v);
    }

    /** erf by Simpson's rule on 2/√π·exp(−t²) (4000 panels, error far below 1e-12): independent of the kernel's series. */
    static double erf(double x) {
        int n = 4000;
        double h = x / n, s = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
        return s * h / 3 * 2 / Math.sqrt(Math.PI);
    }

    static double unaryRef(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SILU -> x / (1 + Math.exp(-x));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case GELU_ERF -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case RELU -> x > 0 ? x : 0;
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void unaryOps(Backend be) {
        Rng rng = new Rng(11);
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
            for (int trial = 0; trial < 6; trial++) {
                int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 4000, true);
                Tensor x = Layouts.any(rng, positive ? uniform(0.01, 20) : r -> 4 * NORMAL.next(r), true, shape);
                Tensor y = Ops.using(be, () -> Ops.unary(op, x));
                // rtol 4e-6: the float result of exp/log/tanh intrinsics and the few float operations in
                // sigmoid/silu/gelu is within a few ulp; atol 1e-6: cancellation in 1 + tanh(z) as z → −∞.
                Expect.close(op + " of " + describe(x), y, map(Ref.of(x), v -> unaryRef(op, v)), 4e-6, 1e-6);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void affinePowClamp(Backend be) {
        Rng rng = new Rng(12);
        for (int trial = 0; trial < 12; trial++) {
            int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 4000, true);
            Tensor x = Layouts.any(rng, NORMAL, true, shape);
            float a = (float) rng.nextGaussian(), b = (float) rng.nextGaussian();
            Ref rx = Ref.of(x);
            Ref want = map(rx, v -> a * v + b);
            double[] tol = new double[rx.numel()];
            // a·x + b in float: two roundings, each ≤ u of its result.
            for (int i = 0; i < tol.length; i++) tol[i] = 2 * U * (Math.abs(a * rx.v()[i]) + Math.abs(b)) + 1e-30;
            Expect.close("affine of " + describe(x), Ops.using(be, () -> Ops.affine(x, a, b)), want, tol);

            float lo = -Math.abs(a), hi = Math.abs(b);
            // clamp is exact.
            Expect.equal("clamp of " + describe(x), Ops.using(be, () -> Ops.clamp(x, lo, hi)), map(rx, v -> Math.min(Math.max(v, lo), hi)));

            Tensor pos = Layouts.any(rng, uniform(0.05, 8), true, shape);
            for (float p : new float[] {2f, 0.5f, 3f, -1.5f, 1.7f}) {
                // rtol 4e-6: the pow intrinsic is within a few ulp of float x^p.
                Expect.close("pow " + p + " of " + describe(pos), Ops.using(be, () -> Ops.pow(pos, p)), map(Ref.of(pos), v -> Math.pow(v, p)), 4e-6, 1e-30);
            }
            // A negative base with an integral exponent is defined (x³ keeps the sign).
            Expect.close("pow 3 of " + describe(x), Ops.using(be, () -> Ops.pow(x, 3f)), map(rx, v -> v * v * v), 4e-6, 1e-30);
        }
    }

    /** A shape that broadcasts to {@code out}: some dims set to 1, some leading dims dropped. */
    static int[] broadcastable(Rng rng, int[] out) {
        int drop = rng.nextInt(out.length + 1);
        int[] s = new int[out.length - drop];
        for (int i = 0; i < s.length; i++) s[i] = rng.nextInt(3) == 0 ? 1 : out[i + drop];
        return s;
    }

    /** Value of r (broadcast to out's shape) at out's multi-index. */
    static double bcast(Ref r, int[] outIdx) {
        int lead = outIdx.length - r.rank();
        int[] idx = new int[r.rank()];
        for (int d = 0; d < idx.length; d++) idx[d] = r.shape()[d] == 1 ? 0 : outIdx[d + lead];
        return r.at(idx);
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void binaryOpsWithBroadcasting(Backend be) {
        Rng rng = new Rng(13);
        for (BinaryOp op : BinaryOp.values()) {
            for (int trial = 0; trial < 8; trial++) {
                int[] out = Layouts.shape(rng, 1 + rng.nextInt(4), 4000, true);
                int[] sa = broadcastable(rng, out), sb = broadcastable(rng, out);
                if (rng.nextInt(2) == 0) sa = out.clone(); // at least one full operand most of the time
                Tensor a = Layouts.any(rng, op == BinaryOp.POW ? uniform(0.1, 4) : NORMAL, true, sa);
                Tensor b = Layouts.any(rng, NORMAL, true, sb);
                Tensor got = Ops.using(be, () -> Ops.binary(op, a, b));
                int[] shape = Ops.broadcastShape("test", sa, sb);
                Ref ra = Ref.of(a), rb = Ref.of(b), want = Ref.zeros(shape);
                for (int i = 0; i < want.numel(); i++) {
                    int[] idx = want.unravel(i);
                    double x = bcast(ra, idx), y = bcast(rb, idx);
                    want.v()[i] = switch (op) {
                        case ADD -> x + y;
                        case SUB -> x - y;
                        case MUL -> x * y;
                        case DIV -> x / y;
                        case POW -> Math.pow(x, y);
                        case MAX -> Math.max(x, y);
                        case MIN -> Math.min(x, y);
                    };
                }
                // One correctly rounded float operation: ≤ u relative (pow: 2u, it rounds twice).
                Expect.close(op + " of " + describe(a) + " and " + describe(b), got, want, op == BinaryOp.POW ? 2.5 * U : 1.01 * U, 1e-37);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void whereSelectsByCondition(Backend be) {
        Rng rng = new Rng(14);
        for (int trial = 0; trial < 10; trial++) {
            int[] out = Layouts.shape(rng, 1 + rng.nextInt(3), 3000, true);
            Tensor c = Layouts.any(rng, r -> r.nextInt(2), false, broadcastable(rng, out));
            Tensor a = Layouts.any(rng, NORMAL, true, out);
            Tensor b = Layouts.any(rng, NORMAL, true, broadcastable(rng, out));
            Tensor got = Ops.using(be, () -> Ops.where(c, a, b));
            Ref rc = Ref.of(c), ra = Ref.of(a), rb = Ref.of(b), want = Ref.zeros(got.shape());
            for (int i = 0; i < want.numel(); i++) {
                int[] idx = want.unravel(i);
                want.v()[i] = bcast(rc, idx) != 0 ? bcast(ra, idx) : bcast(rb, idx);
            }
            Expect.equal("where", got, want);
        }
    }

    /** The BF16 value nearest to x, ties to even: 8 significant bits. */
    static double roundBf16(double x) {
        if (x == 0 || Double.isNaN(x) || Double.isInfinite(x)) return x;
        double ulp = Math.scalb(1.0, Math.max(Math.getExponent(x), -126) - 7);
        return Math.rint(x / ulp) * ulp;
    }

    static double convert(double v, DType to) {
        return switch (to) {
            case F32 -> (float) v;
            case BF16 -> roundBf16(v);
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case I32, I8, U8 -> (double) (long) v; // truncation toward zero; the inputs fit every integer type
            case BLOCK -> throw new IllegalArgumentException("no element conversion to block-quantized rows");
        };
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void copyBetweenEveryPairOfDtypes(Backend be) {
        Rng rng = new Rng(15);
        for (DType from : DType.values()) {
            if (from == DType.BLOCK) continue; // block rows are converted by BlockMatmulConformanceTest
            for (DType to : DType.values()) {
                if (to == DType.BLOCK) continue;
                for (int trial = 0; trial < 3; trial++) {
                    int[] shape = Layouts.shape(rng, 1 + rng.nextInt(3), 2000, true);
                    Tensor src = Layouts.make(rng, uniform(0, 100), from, Layouts.Layout.values()[rng.nextInt(5)], shape);
                    Tensor dst = rng.nextInt(2) == 0 || shape.length < 2 ? Tensor.zeros(to, shape)
                            : Tensor.zeros(to, Layouts.reversed(shape)).permute(Layouts.reversedOrder(shape.length));
                    be.copy(src, dst);
                    // Conversions are exact roundings of the source value (nearest even for floats, truncation for ints).
                    Expect.equal("copy " + describe(src) + " to " + to, dst, map(Ref.of(src), v -> convert(v, to)));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("org.jtune.tensor.Backends#all")
    void fillWritesEveryElementOfAView(Backend be) {
        Tensor base = Ops.using(be, () -> Ops.zeros(DType.F32, 6, 9)); // on the backend's device
        Tensor view = base.narrow(1, 2, 5).slice(0, 1, 6, 2); // rows 1, 3, 5; columns 2..6
        Ops.fill(view, 2.5f);
        Ref want = Ref.zeros(6, 9);
        for (int i = 1; i < 6; i += 2) for (int j = 2; j < 7; j++) want.v()[i * 9 + j] = 2.5;
        Expect.equal("fill", base, want);
        Tensor h = Ops.using(be, () -> Ops.zeros(DType.BF16, 3, 33));
        Ops.fill(h, 1.1f);
        Expect.equal("fill bf16", h, map(Ref.zeros(3, 33), v -> roundBf16(1.1f)));
    }
}
