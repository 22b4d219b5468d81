package org.jtune.tensor;

import java.util.Arrays;
import java.util.List;

/**
 * The tensor operations callers use: each checks its arguments (an error names the op and the
 * shapes), applies numpy broadcasting, allocates the output and calls the {@link Backend} kernel.
 * Floating results are F32. Differentiable versions of these live in the autograd module.
 */
public final class Ops {
    private Ops() {}

    private static final ScopedValue<Backend> BACKEND = ScopedValue.newInstance();

    static Backend backend() {
        return BACKEND.orElse(Backend.cpu());
    }

    /**
     * Runs {@code body} with the ops called on this thread dispatched to {@code backend} instead of
     * the CPU one (the op-conformance suite runs every backend this way).
     */
    public static <T> T using(Backend backend, java.util.function.Supplier<T> body) {
        return ScopedValue.where(BACKEND, backend).call(body::get);
    }

    // ---- copies ----------------------------------------------------------------------------------

    /** dst ← src elementwise (same shape, any layouts and dtypes; 16-bit floats round to nearest even). */
    public static void copyInto(Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("copy: source " + Arrays.toString(src.shape()) + " and destination "
                    + Arrays.toString(dst.shape()) + " differ");
        }
        backend().copy(src, dst);
    }

    // ---- elementwise ---------------------------------------------------------------------------

    public static Tensor unary(UnaryOp op, Tensor x) {
        requireFloating(op.name().toLowerCase(), x);
        Tensor out = Tensor.zeros(x.shape());
        backend().unary(op, x, out);
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
        requireFloating("affine", x);
        Tensor out = Tensor.zeros(x.shape());
        backend().affine(x, a, b, out);
        return out;
    }

    public static Tensor scale(Tensor x, float a) { return affine(x, a, 0f); }
    public static Tensor addScalar(Tensor x, float b) { return affine(x, 1f, b); }

    public static Tensor pow(Tensor x, float p) {
        requireFloating("pow", x);
        Tensor out = Tensor.zeros(x.shape());
        backend().powScalar(x, p, out);
        return out;
    }

    public static Tensor clamp(Tensor x, float lo, float hi) {
        requireFloating("clamp", x);
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " > max " + hi);
        Tensor out = Tensor.zeros(x.shape());
        backend().clamp(x, lo, hi, out);
        return out;
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase();
        requireFloating(name, a);
        requireFloating(name, b);
        int[] shape = broadcastShape(name, a.shape(), b.shape());
        Tensor out = Tensor.zeros(shape);
        backend().binary(op, a.expand(shape), b.expand(shape), out);
        return out;
    }

    public static Tensor add(Tensor a, Tensor b) { return binary(BinaryOp.ADD, a, b); }
    public static Tensor sub(Tensor a, Tensor b) { return binary(BinaryOp.SUB, a, b); }
    public static Tensor mul(Tensor a, Tensor b) { return binary(BinaryOp.MUL, a, b); }
    public static Tensor div(Tensor a, Tensor b) { return binary(BinaryOp.DIV, a, b); }
    public static Tensor pow(Tensor a, Tensor b) { return binary(BinaryOp.POW, a, b); }
    public static Tensor maximum(Tensor a, Tensor b) { return binary(BinaryOp.MAX, a, b); }
    public static Tensor minimum(Tensor a, Tensor b) { return binary(BinaryOp.MIN, a, b); }

    /** cond ≠ 0 ? a : b, all three broadcast together. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        requireFloating("where", a);
        requireFloating("where", b);
        int[] shape = broadcastShape("where", broadcastShape("where", cond.shape(), a.shape()), b.shape());
        Tensor out = Tensor.zeros(shape);
        backend().where(cond.expand(shape), a.expand(shape), b.expand(shape), out);
        return out;
    }

    // ---- reductions ----------------------------------------------------------------------------

    public static Tensor reduce(ReduceOp op, Tensor x, int dim, boolean keepDim) {
        return reduce(op, x, dim, keepDim, 1);
    }

    public static Tensor reduce(ReduceOp op, Tensor x, int dim, boolean keepDim, int correction) {
        requireFloating(op.name().toLowerCase(), x);
        dim = dim(op.name().toLowerCase(), x, dim);
        int[] shape = x.shape();
        if (shape[dim] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
            throw new IllegalArgumentException(op.name().toLowerCase() + ": empty dim " + dim + " of shape " + Arrays.toString(shape));
        }
        shape[dim] = 1;
        Tensor out = Tensor.zeros(shape);
        backend().reduce(op, x, dim, correction, out);
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

    public static Tensor argmax(Tensor x, int dim, boolean keepDim) {
        requireFloating("argmax", x);
        dim = dim("argmax", x, dim);
        int[] shape = x.shape();
        if (shape[dim] == 0) throw new IllegalArgumentException("argmax: empty dim " + dim + " of shape " + Arrays.toString(shape));
        shape[dim] = 1;
        Tensor out = Tensor.zeros(DType.I32, shape);
        backend().argmax(x, dim, out);
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
        requireFloating(name, x);
        dim = dim(name, x, dim);
        int last = x.rank() - 1;
        Tensor src = dim == last ? x : x.transpose(dim, last);
        Tensor out = Tensor.zeros(src.shape());
        if (log) backend().logSoftmax(src, out);
        else backend().softmax(src, out);
        return dim == last ? out : out.transpose(dim, last).contiguous();
    }

    // ---- matmul --------------------------------------------------------------------------------

    /**
     * Matrix product with numpy semantics for rank ≥ 2 (batch dims broadcast); a 1-D b is a vector.
     * Operands may be transposed views: no copies are made.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        requireFloating("matmul", a);
        requireFloating("matmul", b);
        if (a.rank() < 2 || b.rank() < 1) {
            throw new IllegalArgumentException("matmul: need a of rank ≥ 2 and b of rank ≥ 1, got " + shapes(a, b));
        }
        if (b.rank() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
        int m = a.size(-2), k = a.size(-1), k2 = b.size(-2), n = b.size(-1);
        if (k != k2) throw new IllegalArgumentException("matmul: inner dims differ: " + shapes(a, b));
        int[] batch = broadcastShape("matmul", Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = Tensor.zeros(outShape);
        backend().matmul(a.expand(concat(batch, m, k)), b.expand(concat(batch, k, n)), out, false);
        return out;
    }

    /** x (..., in) · wᵀ with w (out, in), the layout of a Hugging Face Linear weight. */
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
        requireFloating("rms_norm", x);
        requireLastDim("rms_norm", x, weight);
        Tensor out = Tensor.zeros(x.shape());
        backend().rmsNorm(x, weight, eps, out);
        return out;
    }

    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        requireFloating("layer_norm", x);
        requireLastDim("layer_norm", x, weight);
        if (bias != null) requireLastDim("layer_norm", x, bias);
        Tensor out = Tensor.zeros(x.shape());
        backend().layerNorm(x, weight, bias, eps, out);
        return out;
    }

    /** Rotary embedding of x (B, T, H, D) at positions (B, T) I32 with inverse frequencies invFreq (D/2). */
    public static Tensor rope(Tensor x, Tensor positions, Tensor invFreq) {
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
        Tensor out = Tensor.zeros(x.shape());
        backend().rope(x, positions, invFreq, false, out);
        return out;
    }

    // ---- indexing ------------------------------------------------------------------------------

    /** Rows of weight (V, D) for ids of any shape; the result has shape ids.shape + (D). */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.rank() != 2) throw new IllegalArgumentException("embedding: weight must be 2-D, got " + weight);
        requireInt("embedding", ids);
        int[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = weight.size(1);
        Tensor out = Tensor.zeros(shape);
        backend().embedding(weight, ids.reshape(-1), out.view(-1, weight.size(1)));
        return out;
    }

    public static Tensor indexSelect(Tensor x, int dim, Tensor idx) {
        requireInt("index_select", idx);
        if (idx.rank() != 1) throw new IllegalArgumentException("index_select: index must be 1-D, got " + idx);
        dim = dim("index_select", x, dim);
        int[] shape = x.shape();
        shape[dim] = idx.size(0);
        Tensor out = Tensor.zeros(x.dtype().isFloating() ? DType.F32 : x.dtype(), shape);
        backend().indexSelect(x, dim, idx, out);
        return out;
    }

    public static Tensor gather(Tensor x, int dim, Tensor idx) {
        requireInt("gather", idx);
        dim = dim("gather", x, dim);
        if (idx.rank() != x.rank()) throw new IllegalArgumentException("gather: index rank differs: " + shapes(x, idx));
        for (int d = 0; d < x.rank(); d++) {
            if (d != dim && idx.size(d) > x.size(d)) throw new IllegalArgumentException("gather: index larger than input at dim " + d + ": " + shapes(x, idx));
        }
        Tensor out = Tensor.zeros(idx.shape());
        backend().gather(x, dim, idx, out);
        return out;
    }

    /** A copy of dst with src added at idx along dim (torch.scatter_add). */
    public static Tensor scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        requireInt("scatter_add", idx);
        dim = dim("scatter_add", dst, dim);
        if (!Arrays.equals(idx.shape(), src.shape()) || idx.rank() != dst.rank()) {
            throw new IllegalArgumentException("scatter_add: index and src must have the same shape and dst's rank: "
                    + shapes(dst, idx, src));
        }
        for (int d = 0; d < dst.rank(); d++) {
            if (d != dim && idx.size(d) > dst.size(d)) {
                throw new IllegalArgumentException("scatter_add: index larger than dst at dim " + d + ": " + shapes(dst, idx, src));
            }
        }
        Tensor out = dst.to(DType.F32).copy();
        backend().scatterAdd(out, dim, idx, src);
        return out;
    }

    public static Tensor concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        Tensor first = parts.getFirst();
        dim = dim("concat", first, dim);
        int[] shape = first.shape();
        int total = 0;
        for (Tensor p : parts) {
            if (p.rank() != first.rank()) throw new IllegalArgumentException("concat: ranks differ: " + shapes(parts.toArray(Tensor[]::new)));
            for (int d = 0; d < shape.length; d++) {
                if (d != dim && p.size(d) != shape[d]) {
                    throw new IllegalArgumentException("concat: sizes differ at dim " + d + ": " + shapes(parts.toArray(Tensor[]::new)));
                }
            }
            total += p.size(dim);
        }
        shape[dim] = total;
        DType dt = first.dtype();
        for (Tensor p : parts) if (p.dtype() != dt) dt = DType.F32;
        Tensor out = Tensor.zeros(dt, shape);
        int at = 0;
        for (Tensor p : parts) {
            backend().copy(p, out.narrow(dim, at, p.size(dim)));
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
        int d = dim("split", x, dim);
        int n = x.size(d);
        java.util.ArrayList<Tensor> parts = new java.util.ArrayList<>();
        for (int at = 0; at < n; at += size) parts.add(x.narrow(d, at, Math.min(size, n - at)));
        return parts;
    }

    // ---- attention and loss --------------------------------------------------------------------

    /** Scaled-dot-product attention; see {@link Backend#attention}. Scale defaults to 1/sqrt(D) when ≤ 0. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException("attention: q, k, v must be (B, T, H, D): " + shapes(q, k, v));
        }
        int b = q.size(0), hq = q.size(2), d = q.size(3), s = k.size(1), hkv = k.size(2);
        if (k.size(0) != b || v.size(0) != b || v.size(1) != s || v.size(2) != hkv || k.size(3) != d || v.size(3) != d
                || hkv == 0 || hq % hkv != 0) {
            throw new IllegalArgumentException("attention: incompatible q, k, v (query heads must be a multiple of kv heads): " + shapes(q, k, v));
        }
        if (mask.queryOffset() < 0 || mask.queryOffset() + q.size(1) > s && mask.causal()) {
            throw new IllegalArgumentException("attention: queries at " + mask.queryOffset() + ".." + (mask.queryOffset() + q.size(1))
                    + " beyond the " + s + " keys");
        }
        Tensor segs = mask.segments();
        if (segs != null && (segs.dtype() != DType.I32 || segs.rank() != 2 || segs.size(0) != b || segs.size(1) != s)) {
            throw new IllegalArgumentException("attention: segments must be I32 (B, S) = (" + b + ", " + s + "), got " + segs);
        }
        if (segs != null && mask.queryOffset() + q.size(1) > s) {
            throw new IllegalArgumentException("attention: with segments, queries at " + mask.queryOffset() + ".."
                    + (mask.queryOffset() + q.size(1)) + " need their own keys among the " + s + " keys");
        }
        Tensor out = Tensor.zeros(q.shape());
        backend().attention(q, k, v, mask, scale > 0 ? scale : (float) (1.0 / Math.sqrt(d)), out);
        return out;
    }

    /** Per-row losses (N) of logits (N, V) against targets (N, I32); ignored rows are 0. */
    public static Tensor crossEntropyPerRow(Tensor logits, Tensor targets, int ignoreIndex) {
        requireFloating("cross_entropy", logits);
        requireInt("cross_entropy", targets);
        if (logits.rank() != 2 || targets.rank() != 1 || targets.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("cross_entropy: need logits (N, V) and targets (N): " + shapes(logits, targets));
        }
        Tensor losses = Tensor.zeros(logits.size(0));
        backend().crossEntropy(logits, targets, ignoreIndex, losses);
        return losses;
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
        requireFloating("topk", x);
        if (x.rank() < 1 || k < 0 || k > x.size(-1)) {
            throw new IllegalArgumentException("topk: k = " + k + " for shape " + Arrays.toString(x.shape()));
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = k;
        Tensor values = Tensor.zeros(shape);
        Tensor indices = Tensor.zeros(DType.I32, shape);
        backend().topK(x, k, values, indices);
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

    /** A dim of x normalised (negative counts from the end); an error names the op and the shape. */
    static int dim(String op, Tensor x, int dim) {
        int r = x.rank();
        if (dim < -r || dim >= r) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for shape " + Arrays.toString(x.shape()));
        }
        return dim < 0 ? dim + r : dim;
    }

    static void requireFloating(String op, Tensor t) {
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating tensor, got " + t);
    }

    static void requireInt(String op, Tensor t) {
        if (t.dtype() != DType.I32) throw new IllegalArgumentException(op + ": expected an I32 index tensor, got " + t);
    }

    private static void requireLastDim(String op, Tensor x, Tensor w) {
        if (w.rank() != 1 || w.size(0) != x.size(-1)) {
            throw new IllegalArgumentException(op + ": weight " + Arrays.toString(w.shape()) + " does not match last dim of " + Arrays.toString(x.shape()));
        }
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    static String shapes(Tensor... ts) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : ts) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(Arrays.toString(t.shape()));
        }
        return sb.toString();
    }
}
