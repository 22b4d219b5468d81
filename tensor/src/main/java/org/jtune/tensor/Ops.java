package org.jtune.tensor;

import java.util.Arrays;
import java.util.List;

/**
 * The tensor operations callers use: each checks its arguments (an error names the op and the
 * shapes), applies numpy broadcasting, chooses the backend that runs it — the one of its primary
 * input's device ({@link Placement}: device follows data) — allocates the output through that
 * backend and calls the {@link Backend} kernel. Floating results are F32. Gradients and optimizer
 * updates are in {@link BackwardOps}; the differentiable versions of these ops are in the autograd module.
 */
public final class Ops {
    private Ops() {}

    /**
     * Runs {@code body} with every op called on this thread run by {@code backend}, and tensors created
     * without inputs ({@link #zeros}) allocated on its device; inputs elsewhere are copied to its device
     * with their layout kept. The op-conformance suite runs every backend this way.
     */
    public static <T> T using(Backend backend, java.util.function.Supplier<T> body) {
        return Placement.using(backend, body);
    }

    // ---- memory --------------------------------------------------------------------------------

    /** A zeroed contiguous tensor on the scope's device ({@link #using}), else on the host. */
    public static Tensor zeros(DType dtype, int... shape) {
        return Placement.forCreation().allocate(dtype, shape);
    }

    /** A zeroed contiguous tensor on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, int... shape) {
        return device.backend().allocate(dtype, shape);
    }

    /** A zeroed F32 tensor of {@code shape} on the device of {@code like} (gradient buffers, accumulators). */
    public static Tensor zerosOn(Tensor like, int... shape) {
        return Placement.of(like).allocate(DType.F32, shape);
    }

    /** dst ← src (same shape, converting dtypes; the two may live on different devices). */
    public static void copyInto(Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("copy: source " + Arrays.toString(src.shape()) + " and destination " + Arrays.toString(dst.shape()) + " differ");
        }
        Placement.copy(src, dst);
    }

    /** Every element of dst ← value. */
    public static void fill(Tensor dst, float value) {
        Placement.owner(dst).fill(dst, value);
    }

    // ---- elementwise ---------------------------------------------------------------------------

    public static Tensor unary(UnaryOp op, Tensor x) {
        OpChecks.requireFloating(op.name().toLowerCase(), x);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.unary(op, Placement.data(op.name().toLowerCase(), be, x), out);
        return out;
    }

    public static Tensor neg(Tensor x) { return unary(UnaryOp.NEG, x); }
    public static Tensor exp(Tensor x) { return unary(UnaryOp.EXP, x); }
    public static Tensor log(Tensor x) { return unary(UnaryOp.LOG, x); }
    public static Tensor sqrt(Tensor x) { return unary(UnaryOp.SQRT, x); }
    public static Tensor rsqrt(Tensor x) { return unary(UnaryOp.RSQRT, x); }
    public static Tensor abs(Tensor x) { return unary(UnaryOp.ABS, x); }
    public static Tensor tanh(Tensor x) { return unary(UnaryOp.TANH, x); }
    public static Tensor sigmoid(Tensor x) { return unary(UnaryOp.SIGMOID, x); }
    public static Tensor silu(Tensor x) { return unary(UnaryOp.SILU, x); }
    public static Tensor gelu(Tensor x) { return unary(UnaryOp.GELU_ERF, x); }
    public static Tensor geluTanh(Tensor x) { return unary(UnaryOp.GELU_TANH, x); }
    public static Tensor relu(Tensor x) { return unary(UnaryOp.RELU, x); }

    /** a·x + b. */
    public static Tensor affine(Tensor x, float a, float b) {
        OpChecks.requireFloating("affine", x);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.affine(Placement.data("affine", be, x), a, b, out);
        return out;
    }

    public static Tensor scale(Tensor x, float a) { return affine(x, a, 0f); }
    public static Tensor addScalar(Tensor x, float b) { return affine(x, 1f, b); }

    /** x ← a·x in place (x contiguous F32: a gradient being clipped or scaled). */
    public static void scaleInPlace(Tensor x, float a) {
        OpChecks.requireDenseF32("scale_", x);
        Placement.owner(x).affine(x, a, 0f, x);
    }

    public static Tensor pow(Tensor x, float p) {
        OpChecks.requireFloating("pow", x);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.powScalar(Placement.data("pow", be, x), p, out);
        return out;
    }

    public static Tensor clamp(Tensor x, float lo, float hi) {
        OpChecks.requireFloating("clamp", x);
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " > max " + hi);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.clamp(Placement.data("clamp", be, x), lo, hi, out);
        return out;
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase();
        OpChecks.requireFloating(name, a);
        OpChecks.requireFloating(name, b);
        int[] shape = broadcastShape(name, a.shape(), b.shape());
        Backend be = Placement.of(a, b);
        Tensor out = be.allocateOutput(DType.F32, shape);
        be.binary(op, Placement.data(name, be, a).expand(shape), Placement.data(name, be, b).expand(shape), out);
        return out;
    }

    public static Tensor add(Tensor a, Tensor b) { return binary(BinaryOp.ADD, a, b); }
    public static Tensor sub(Tensor a, Tensor b) { return binary(BinaryOp.SUB, a, b); }
    public static Tensor mul(Tensor a, Tensor b) { return binary(BinaryOp.MUL, a, b); }
    public static Tensor div(Tensor a, Tensor b) { return binary(BinaryOp.DIV, a, b); }
    public static Tensor pow(Tensor a, Tensor b) { return binary(BinaryOp.POW, a, b); }
    public static Tensor maximum(Tensor a, Tensor b) { return binary(BinaryOp.MAX, a, b); }
    public static Tensor minimum(Tensor a, Tensor b) { return binary(BinaryOp.MIN, a, b); }

    /** acc ← acc + x in place (acc contiguous F32, x of acc's shape or broadcastable to it): summing gradients. */
    public static void addInPlace(Tensor acc, Tensor x) {
        OpChecks.requireDenseF32("add_", acc);
        OpChecks.requireFloating("add_", x);
        int[] shape = acc.shape();
        if (!Arrays.equals(broadcastShape("add_", shape, x.shape()), shape)) {
            throw new IllegalArgumentException("add_: " + Arrays.toString(x.shape()) + " does not broadcast to " + Arrays.toString(shape));
        }
        Backend be = Placement.owner(acc);
        be.binary(BinaryOp.ADD, acc, Placement.data("add_", be, x).expand(shape), acc);
    }

    /** cond ≠ 0 ? a : b, all three broadcast together. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        OpChecks.requireFloating("where", a);
        OpChecks.requireFloating("where", b);
        int[] shape = broadcastShape("where", broadcastShape("where", cond.shape(), a.shape()), b.shape());
        Backend be = Placement.of(a, b, cond);
        Tensor out = be.allocateOutput(DType.F32, shape);
        be.where(Placement.data("where", be, cond).expand(shape), Placement.data("where", be, a).expand(shape),
                Placement.data("where", be, b).expand(shape), out);
        return out;
    }

    /** silu(gate)·up (SwiGLU, Shazeer 2020), gate and up of one shape. */
    public static Tensor swiglu(Tensor gate, Tensor up) {
        OpChecks.requireFloating("swiglu", gate);
        OpChecks.requireFloating("swiglu", up);
        OpChecks.requireSameShape("swiglu", gate, up);
        Backend be = Placement.of(gate);
        Tensor out = be.allocateOutput(DType.F32, gate.shape());
        be.swiglu(Placement.data("swiglu", be, gate), Placement.data("swiglu", be, up), out);
        return out;
    }

    // ---- reductions ----------------------------------------------------------------------------

    public static Tensor reduce(ReduceOp op, Tensor x, int dim, boolean keepDim) {
        return reduce(op, x, dim, keepDim, 1);
    }

    public static Tensor reduce(ReduceOp op, Tensor x, int dim, boolean keepDim, int correction) {
        OpChecks.requireFloating(op.name().toLowerCase(), x);
        dim = OpChecks.dim(op.name().toLowerCase(), x, dim);
        int[] shape = x.shape();
        if (shape[dim] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
            throw new IllegalArgumentException(op.name().toLowerCase() + ": empty dim " + dim + " of shape " + Arrays.toString(shape));
        }
        shape[dim] = 1;
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, shape);
        be.reduce(op, Placement.data(op.name().toLowerCase(), be, x), dim, correction, out);
        return keepDim ? out : out.squeeze(dim);
    }

    public static Tensor sum(Tensor x, int dim, boolean keepDim) { return reduce(ReduceOp.SUM, x, dim, keepDim); }
    public static Tensor mean(Tensor x, int dim, boolean keepDim) { return reduce(ReduceOp.MEAN, x, dim, keepDim); }
    public static Tensor max(Tensor x, int dim, boolean keepDim) { return reduce(ReduceOp.MAX, x, dim, keepDim); }
    public static Tensor min(Tensor x, int dim, boolean keepDim) { return reduce(ReduceOp.MIN, x, dim, keepDim); }
    public static Tensor var(Tensor x, int dim, boolean keepDim, int correction) { return reduce(ReduceOp.VAR, x, dim, keepDim, correction); }

    /** Sum of all elements as a 0-d tensor. */
    public static Tensor sumAll(Tensor x) {
        return sum(x.reshape(-1), 0, false);
    }

    /** Σ x² over all elements, in double (a gradient's squared norm); the order depends only on the element count. */
    public static double sumOfSquares(Tensor x) {
        OpChecks.requireFloating("sum_of_squares", x);
        Backend be = Placement.of(x);
        return be.sumOfSquares(Placement.data("sum_of_squares", be, x));
    }

    public static Tensor argmax(Tensor x, int dim, boolean keepDim) {
        OpChecks.requireFloating("argmax", x);
        dim = OpChecks.dim("argmax", x, dim);
        int[] shape = x.shape();
        if (shape[dim] == 0) throw new IllegalArgumentException("argmax: empty dim " + dim + " of shape " + Arrays.toString(shape));
        shape[dim] = 1;
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.I32, shape);
        be.argmax(Placement.data("argmax", be, x), dim, out);
        return keepDim ? out : out.squeeze(dim);
    }

    // ---- softmax -------------------------------------------------------------------------------

    public static Tensor softmax(Tensor x, int dim) {
        return lastDimOp("softmax", x, dim, false);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return lastDimOp("log_softmax", x, dim, true);
    }

    private static Tensor lastDimOp(String name, Tensor x, int dim, boolean log) {
        OpChecks.requireFloating(name, x);
        dim = OpChecks.dim(name, x, dim);
        int last = x.rank() - 1;
        Backend be = Placement.of(x);
        Tensor placed = Placement.data(name, be, x);
        Tensor src = dim == last ? placed : placed.transpose(dim, last);
        Tensor out = be.allocateOutput(DType.F32, src.shape());
        if (log) be.logSoftmax(src, out);
        else be.softmax(src, out);
        return dim == last ? out : out.transpose(dim, last).contiguous();
    }

    // ---- matmul --------------------------------------------------------------------------------

    /**
     * Matrix product with numpy semantics for rank ≥ 2 (batch dims broadcast); a 1-D b is a vector.
     * Operands may be transposed views: no copies are made.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        if (b.dtype() == DType.BLOCK) return blockMatmul(a, b, null, false);
        OpChecks.requireFloating("matmul", a);
        OpChecks.requireFloating("matmul", b);
        if (a.rank() < 2 || b.rank() < 1) {
            throw new IllegalArgumentException("matmul: need a of rank ≥ 2 and b of rank ≥ 1, got " + OpChecks.shapes(a, b));
        }
        if (b.rank() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
        int[] outShape = matmulShape(a, b);
        Backend be = Placement.of(a);
        Tensor out = be.allocateOutput(DType.F32, outShape);
        matmulInto(be, a, b, out, false);
        return out;
    }

    /**
     * out ← a·b, or out ← out + a·b when {@code accumulate} (a gradient added into its buffer without
     * a temporary). out must have the product's shape and be contiguous F32.
     */
    public static void matmulInto(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        if (b.dtype() == DType.BLOCK) {
            blockMatmul(a, b, out, accumulate);
            return;
        }
        OpChecks.requireFloating("matmul", a);
        OpChecks.requireFloating("matmul", b);
        OpChecks.requireDenseF32("matmul", out);
        if (a.rank() < 2 || b.rank() < 2) throw new IllegalArgumentException("matmul: need a and b of rank ≥ 2, got " + OpChecks.shapes(a, b));
        int[] shape = matmulShape(a, b);
        if (!Arrays.equals(shape, out.shape())) {
            throw new IllegalArgumentException("matmul: output " + Arrays.toString(out.shape()) + " for a product of shape " + Arrays.toString(shape));
        }
        matmulInto(Placement.owner(out), a, b, out, accumulate);
    }

    private static int[] matmulShape(Tensor a, Tensor b) {
        int m = a.size(-2), k = a.size(-1), k2 = b.size(-2), n = b.size(-1);
        if (k != k2) throw new IllegalArgumentException("matmul: inner dims differ: " + OpChecks.shapes(a, b));
        int[] batch = broadcastShape("matmul", Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        return concat(batch, m, n);
    }

    private static void matmulInto(Backend be, Tensor a, Tensor b, Tensor out, boolean accumulate) {
        int r = out.rank();
        int[] batch = Arrays.copyOf(out.shape(), r - 2);
        int m = a.size(-2), k = a.size(-1), n = b.size(-1);
        be.matmul(Placement.data("matmul", be, a).expand(concat(batch, m, k)), Placement.data("matmul", be, b).expand(concat(batch, k, n)),
                out, accumulate);
    }

    /**
     * a (M, K) · b with b a block-quantized matrix ({@link DType#BLOCK}): b = Wᵀ (a transposed view of W (N, K))
     * is a Linear forward, {@link Backend#blockLinear}; b = W (K, N) itself is the input gradient G·W,
     * {@link Backend#blockLinearInputGradient}. out null: allocated; else written (or accumulated) in place.
     */
    private static Tensor blockMatmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        OpChecks.requireFloating("matmul", a);
        if (a.rank() != 2 || b.rank() != 2 || a.size(1) != b.size(0)) {
            throw new IllegalArgumentException("matmul with a block-quantized (" + b.blockCodec().name() + ") matrix: need a (M, K) and b (K, N), got "
                    + OpChecks.shapes(a, b));
        }
        boolean forward = b.stride(0) == 1 && b.size(0) > 1 || b.size(1) == 1 && b.stride(1) != 1;
        Backend be = out == null ? Placement.of(b) : Placement.owner(out);
        if (out == null) out = accumulate ? be.allocate(DType.F32, a.size(0), b.size(1)) : be.allocateOutput(DType.F32, a.size(0), b.size(1));
        else {
            OpChecks.requireDenseF32("matmul", out);
            if (out.rank() != 2 || out.size(0) != a.size(0) || out.size(1) != b.size(1)) {
                throw new IllegalArgumentException("matmul: output " + Arrays.toString(out.shape()) + " for a product of shape (" + a.size(0) + ", " + b.size(1) + ")");
            }
        }
        Tensor ad = Placement.data("matmul", be, a);
        if (forward) {
            if (accumulate) throw new IllegalArgumentException("matmul: accumulating a block-quantized forward product is not supported");
            be.blockLinear(ad, b.t(), out);
        } else {
            be.blockLinearInputGradient(ad, b, out, accumulate);
        }
        return out;
    }

    /**
     * Segmented LoRA into a layer's output (Punica's SGMV, S-LoRA): for each of the first {@code segments}
     * segments s, rows [starts[s], starts[s + 1]) of x (M, in), when a[s] is not null:
     * out rows += scale[s] · (x rows · a[s]ᵀ) · b[s]ᵀ, with a[s] (r_s, in) and b[s] (out, r_s). Rows outside
     * every segment with an adapter are left as they are. out (M, out) is contiguous F32, written in place;
     * x, a[s] and b[s] may be views (an a[s] or b[s] found on another device is replaced in
     * the array by its copy on out's). Inference only (no gradient).
     */
    public static void loraSegments(Tensor x, int[] starts, Tensor[] a, Tensor[] b, float[] scale, int segments, Tensor out) {
        OpChecks.requireFloating("lora_segments", x);
        OpChecks.requireDenseF32("lora_segments", out);
        if (x.rank() != 2 || out.rank() != 2 || out.size(0) != x.size(0)) {
            throw new IllegalArgumentException("lora_segments: need x (M, in) and out (M, out), got " + OpChecks.shapes(x, out));
        }
        if (segments < 0 || starts.length < segments + 1 || a.length < segments || b.length < segments || scale.length < segments) {
            throw new IllegalArgumentException("lora_segments: " + segments + " segments need " + (segments + 1) + " starts and " + segments
                    + " of each of a, b, scale; got " + starts.length + ", " + a.length + ", " + b.length + ", " + scale.length);
        }
        int m = x.size(0), in = x.size(1), cols = out.size(1);
        Backend be = Placement.owner(out);
        for (int s = 0; s < segments; s++) {
            if (starts[s] < 0 || starts[s + 1] < starts[s] || starts[s + 1] > m) {
                throw new IllegalArgumentException("lora_segments: segment " + s + " covers rows [" + starts[s] + ", " + starts[s + 1] + ") of " + m);
            }
            if (a[s] == null) continue;
            if (b[s] == null) throw new IllegalArgumentException("lora_segments: segment " + s + " has A but no B");
            OpChecks.requireFloating("lora_segments", a[s]);
            OpChecks.requireFloating("lora_segments", b[s]);
            if (a[s].rank() != 2 || b[s].rank() != 2 || a[s].size(1) != in || b[s].size(0) != cols || b[s].size(1) != a[s].size(0)) {
                throw new IllegalArgumentException("lora_segments: segment " + s + " has A " + Arrays.toString(a[s].shape()) + " and B "
                        + Arrays.toString(b[s].shape()) + " for x (" + m + ", " + in + ") and out (" + m + ", " + cols + ")");
            }
            a[s] = Placement.data("lora_segments", be, a[s]);
            b[s] = Placement.data("lora_segments", be, b[s]);
        }
        be.loraSegments(Placement.data("lora_segments", be, x), starts, a, b, scale, segments, out);
    }

    /** x (..., in) · wᵀ with w (out, in), the layout of a Hugging Face Linear weight (w may be block-quantized). */
    public static Tensor linear(Tensor x, Tensor w) {
        if (w.rank() != 2 || x.size(-1) != w.size(1)) {
            throw new IllegalArgumentException("linear: x " + Arrays.toString(x.shape()) + " and weight " + Arrays.toString(w.shape()));
        }
        int[] xs = x.shape();
        Tensor y = matmul(x.reshape(-1, w.size(1)), w.t());
        xs[xs.length - 1] = w.size(0);
        return y.view(xs);
    }

    // ---- normalisation and positions -----------------------------------------------------------

    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        return rmsNormWithRstd(x, weight, eps, false)[0];
    }

    /** RMSNorm and, when {@code wantRstd}, the per-row r = rsqrt(mean(x²) + eps) (shape x.shape minus the last dim) that its backward needs. */
    public static Tensor[] rmsNormWithRstd(Tensor x, Tensor weight, float eps, boolean wantRstd) {
        OpChecks.requireFloating("rms_norm", x);
        OpChecks.requireLastDim("rms_norm", x, weight);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        Tensor rstd = wantRstd ? be.allocateOutput(DType.F32, Arrays.copyOf(x.shape(), x.rank() - 1)) : null;
        be.rmsNorm(Placement.data("rms_norm", be, x), Placement.data("rms_norm", be, weight), eps, out, rstd);
        return new Tensor[] {out, rstd};
    }

    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        OpChecks.requireFloating("layer_norm", x);
        OpChecks.requireLastDim("layer_norm", x, weight);
        if (bias != null) OpChecks.requireLastDim("layer_norm", x, bias);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.layerNorm(Placement.data("layer_norm", be, x), Placement.data("layer_norm", be, weight), Placement.data("layer_norm", be, bias), eps, out);
        return out;
    }

    /** Rotary embedding of x (B, T, H, D) at positions (B, T) I32 with inverse frequencies invFreq (D/2). */
    public static Tensor rope(Tensor x, Tensor positions, Tensor invFreq) {
        return rope(x, positions, invFreq, false);
    }

    /** Rotary embedding, or (inverse) the rotation by −θ, which is its backward. */
    static Tensor rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
        if (x.rank() != 4 || x.size(3) % 2 != 0) {
            throw new IllegalArgumentException("rope: x must be (B, T, H, D) with even D, got " + Arrays.toString(x.shape()));
        }
        if (positions.dtype() != DType.I32 || positions.rank() != 2 || positions.size(0) != x.size(0) || positions.size(1) != x.size(1)) {
            throw new IllegalArgumentException("rope: positions must be I32 (B, T) for x " + Arrays.toString(x.shape())
                    + ", got " + positions);
        }
        if (invFreq.rank() != 1 || invFreq.size(0) != x.size(3) / 2) {
            throw new IllegalArgumentException("rope: invFreq must have D/2 = " + x.size(3) / 2 + " entries, got " + invFreq);
        }
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, x.shape());
        be.rope(Placement.data("rope", be, x), Placement.aux(be, positions), Placement.aux(be, invFreq), inverse, out);
        return out;
    }

    // ---- indexing ------------------------------------------------------------------------------

    /** Rows of weight (V, D) for ids of any shape; the result has shape ids.shape + (D). */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.rank() != 2) throw new IllegalArgumentException("embedding: weight must be 2-D, got " + weight);
        OpChecks.requireInt("embedding", ids);
        int[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = weight.size(1);
        Backend be = Placement.of(weight);
        Tensor out = be.allocateOutput(DType.F32, shape);
        be.embedding(Placement.data("embedding", be, weight), Placement.aux(be, ids).reshape(-1), out.view(-1, weight.size(1)));
        return out;
    }

    public static Tensor indexSelect(Tensor x, int dim, Tensor idx) {
        OpChecks.requireInt("index_select", idx);
        if (idx.rank() != 1) throw new IllegalArgumentException("index_select: index must be 1-D, got " + idx);
        dim = OpChecks.dim("index_select", x, dim);
        int[] shape = x.shape();
        shape[dim] = idx.size(0);
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(x.dtype().isFloating() ? DType.F32 : x.dtype(), shape);
        be.indexSelect(Placement.data("index_select", be, x), dim, Placement.aux(be, idx), out);
        return out;
    }

    public static Tensor gather(Tensor x, int dim, Tensor idx) {
        OpChecks.requireInt("gather", idx);
        dim = OpChecks.dim("gather", x, dim);
        if (idx.rank() != x.rank()) throw new IllegalArgumentException("gather: index rank differs: " + OpChecks.shapes(x, idx));
        for (int d = 0; d < x.rank(); d++) {
            if (d != dim && idx.size(d) > x.size(d)) throw new IllegalArgumentException("gather: index larger than input at dim " + d + ": " + OpChecks.shapes(x, idx));
        }
        Backend be = Placement.of(x);
        Tensor out = be.allocateOutput(DType.F32, idx.shape());
        be.gather(Placement.data("gather", be, x), dim, Placement.aux(be, idx), out);
        return out;
    }

    /** A copy of dst with src added at idx along dim (torch.scatter_add). */
    public static Tensor scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        OpChecks.requireInt("scatter_add", idx);
        dim = OpChecks.dim("scatter_add", dst, dim);
        if (!Arrays.equals(idx.shape(), src.shape()) || idx.rank() != dst.rank()) {
            throw new IllegalArgumentException("scatter_add: index and src must have the same shape and dst's rank: "
                    + OpChecks.shapes(dst, idx, src));
        }
        for (int d = 0; d < dst.rank(); d++) {
            if (d != dim && idx.size(d) > dst.size(d)) {
                throw new IllegalArgumentException("scatter_add: index larger than dst at dim " + d + ": " + OpChecks.shapes(dst, idx, src));
            }
        }
        Backend be = Placement.of(dst);
        Tensor out = be.allocateOutput(DType.F32, dst.shape());
        be.copy(Placement.data("scatter_add", be, dst), out);
        be.scatterAdd(out, dim, Placement.aux(be, idx), Placement.data("scatter_add", be, src));
        return out;
    }

    public static Tensor concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        Tensor first = parts.getFirst();
        dim = OpChecks.dim("concat", first, dim);
        int[] shape = first.shape();
        int total = 0;
        for (Tensor p : parts) {
            if (p.rank() != first.rank()) throw new IllegalArgumentException("concat: ranks differ: " + OpChecks.shapes(parts.toArray(Tensor[]::new)));
            for (int d = 0; d < shape.length; d++) {
                if (d != dim && p.size(d) != shape[d]) {
                    throw new IllegalArgumentException("concat: sizes differ at dim " + d + ": " + OpChecks.shapes(parts.toArray(Tensor[]::new)));
                }
            }
            total += p.size(dim);
        }
        shape[dim] = total;
        DType dt = first.dtype();
        for (Tensor p : parts) if (p.dtype() != dt) dt = DType.F32;
        Backend be = Placement.of(first);
        Tensor out = be.allocateOutput(dt, shape);
        int at = 0;
        for (Tensor p : parts) {
            be.copy(Placement.data("concat", be, p), out.narrow(dim, at, p.size(dim)));
            at += p.size(dim);
        }
        return out;
    }

    public static Tensor stack(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("stack: no tensors");
        int r = parts.getFirst().rank() + 1;
        if (dim < -r || dim >= r) {
            throw new IllegalArgumentException("stack: dim " + dim + " out of range for stacking shape " + Arrays.toString(parts.getFirst().shape()));
        }
        int d = dim < 0 ? dim + r : dim;
        return concat(parts.stream().map(p -> p.unsqueeze(d)).toList(), d);
    }

    /** Views of consecutive pieces of {@code size} along dim (the last may be shorter). */
    public static List<Tensor> split(Tensor x, int size, int dim) {
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        int d = OpChecks.dim("split", x, dim);
        int n = x.size(d);
        java.util.ArrayList<Tensor> parts = new java.util.ArrayList<>();
        for (int at = 0; at < n; at += size) parts.add(x.narrow(d, at, Math.min(size, n - at)));
        return parts;
    }

    // ---- attention and loss --------------------------------------------------------------------

    /** Scaled-dot-product attention; see {@link Backend#attention}. Scale defaults to 1/sqrt(D) when ≤ 0. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale) {
        return attentionWithLse(q, k, v, mask, scale, false)[0];
    }

    /** Attention and, when {@code wantLse}, each query row's logsumexp (B, T, Hq) that its backward needs. */
    public static Tensor[] attentionWithLse(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, boolean wantLse) {
        OpChecks.checkAttention(q, k, v, mask);
        Backend be = Placement.of(q);
        Tensor out = be.allocateOutput(DType.F32, q.shape());
        Tensor lse = wantLse ? be.allocateOutput(DType.F32, q.size(0), q.size(1), q.size(2)) : null;
        be.attention(Placement.data("attention", be, q), Placement.data("attention", be, k), Placement.data("attention", be, v), OpChecks.placeMask(be, mask),
                OpChecks.attentionScale(scale, q), out, lse);
        return new Tensor[] {out, lse};
    }

    /**
     * Attention of several sequences' newest query rows over their paged KV caches, into out (see
     * {@link Backend#pagedAttention}): q (1, n, Hq, D) the packed query rows, keyBlocks and valueBlocks (blocks, blockSize,
     * Hkv, D) contiguous, both F32 or both BF16 or F16 (a half-precision KV cache), out (1, n, Hq, D) contiguous F32
     * written in place (rows no sequence owns are left as they are); a scale of 0 means 1/√D. Inference only (no gradient).
     */
    public static void pagedAttention(Tensor q, Tensor keyBlocks, Tensor valueBlocks, PagedRows rows, int window, float scale, Tensor out) {
        OpChecks.requireFloating("paged_attention", q);
        OpChecks.requireDenseF32("paged_attention", out);
        DType kv = keyBlocks.dtype();
        if (kv != DType.F32 && kv != DType.BF16 && kv != DType.F16 || valueBlocks.dtype() != kv || !keyBlocks.isContiguous() || !valueBlocks.isContiguous()) {
            throw new IllegalArgumentException("paged_attention: key and value blocks must be contiguous and both F32, BF16 or F16: "
                    + keyBlocks.dtype() + " and " + valueBlocks.dtype() + " " + OpChecks.shapes(keyBlocks, valueBlocks));
        }
        if (q.rank() != 4 || q.size(0) != 1 || keyBlocks.rank() != 4 || !Arrays.equals(keyBlocks.shape(), valueBlocks.shape())
                || !Arrays.equals(q.shape(), out.shape()) || keyBlocks.size(3) != q.size(3) || keyBlocks.size(2) == 0
                || q.size(2) % keyBlocks.size(2) != 0) {
            throw new IllegalArgumentException("paged_attention: need q and out (1, n, Hq, D) and key and value blocks (blocks, blockSize, Hkv, D)"
                    + " with Hq a multiple of Hkv: " + OpChecks.shapes(q, keyBlocks, valueBlocks, out));
        }
        if (window < 0) throw new IllegalArgumentException("paged_attention: negative window " + window);
        rows.check(q.size(1), keyBlocks.size(0), keyBlocks.size(1));
        Backend be = Placement.owner(out);
        be.pagedAttention(Placement.data("paged_attention", be, q), Placement.data("paged_attention", be, keyBlocks),
                Placement.data("paged_attention", be, valueBlocks), rows, window, OpChecks.attentionScale(scale, q), out);
    }

    /** Per-row losses (N) of logits (N, V) against targets (N, I32); ignored rows are 0. */
    public static Tensor crossEntropyPerRow(Tensor logits, Tensor targets, int ignoreIndex) {
        return crossEntropyWithLse(logits, targets, ignoreIndex, false)[0];
    }

    /** Per-row losses and, when {@code wantLse}, each row's logsumexp (N) that the backward needs. */
    public static Tensor[] crossEntropyWithLse(Tensor logits, Tensor targets, int ignoreIndex, boolean wantLse) {
        OpChecks.checkCrossEntropy(logits, targets);
        Backend be = Placement.of(logits);
        Tensor losses = be.allocateOutput(DType.F32, logits.size(0));
        Tensor lse = wantLse ? be.allocateOutput(DType.F32, logits.size(0)) : null;
        be.crossEntropy(Placement.data("cross_entropy", be, logits), Placement.aux(be, targets), ignoreIndex, losses, lse);
        return new Tensor[] {losses, lse};
    }

    /** Mean cross-entropy over the rows whose target is not ignoreIndex (0 when all are ignored). */
    public static float crossEntropy(Tensor logits, Tensor targets, int ignoreIndex) {
        Tensor losses = crossEntropyPerRow(logits, targets, ignoreIndex);
        int[] t = targets.toIntArray();
        double sum = 0;
        int count = 0;
        float[] l = losses.toFloatArray();
        for (int i = 0; i < t.length; i++) {
            if (t[i] != ignoreIndex) {
                sum += l[i];
                count++;
            }
        }
        return count == 0 ? 0f : (float) (sum / count);
    }

    /** The k largest values along the last dim and their indices. */
    public static Tensor[] topK(Tensor x, int k) {
        OpChecks.requireFloating("topk", x);
        if (x.rank() < 1 || k < 0 || k > x.size(-1)) {
            throw new IllegalArgumentException("topk: k = " + k + " for shape " + Arrays.toString(x.shape()));
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = k;
        Backend be = Placement.of(x);
        Tensor values = be.allocateOutput(DType.F32, shape);
        Tensor indices = be.allocateOutput(DType.I32, shape);
        be.topK(Placement.data("topk", be, x), k, values, indices);
        return new Tensor[] {values, indices};
    }

    // ---- checks --------------------------------------------------------------------------------

    /** Numpy broadcasting of two shapes; an error names the op and both shapes. */
    public static int[] broadcastShape(String op, int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] s = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
            }
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }
}
