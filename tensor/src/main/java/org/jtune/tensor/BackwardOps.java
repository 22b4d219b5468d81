package org.jtune.tensor;

import java.util.Arrays;

/**
 * The gradient kernels of the differentiable ops, as {@link Ops} offers the forward ones: each checks
 * its arguments, runs on the backend of its primary input's device and allocates its results there.
 * The autograd module's backward rules call these; the maths of each is stated on its {@link Backend}
 * method.
 */
public final class BackwardOps {
    private BackwardOps() {}

    /** g·f'(x) for the elementwise function op; {@code saved} is x, or the forward's output when {@link UnaryOp#gradientFromOutput()}. */
    public static Tensor unary(UnaryOp op, Tensor saved, Tensor g) {
        String name = op.name().toLowerCase() + " backward";
        OpChecks.requireFloating(name, saved);
        OpChecks.requireFloating(name, g);
        OpChecks.requireSameShape(name, saved, g);
        Backend be = Placement.of(g);
        Tensor out = be.allocateOutput(DType.F32, g.shape());
        be.unaryBackward(op, Placement.data(name, be, saved), Placement.data(name, be, g), out);
        return out;
    }

    /** g·p·x^(p−1), the gradient of x^p. */
    public static Tensor pow(Tensor x, float p, Tensor g) {
        OpChecks.requireFloating("pow backward", x);
        OpChecks.requireSameShape("pow backward", x, g);
        Backend be = Placement.of(g);
        Tensor out = be.allocateOutput(DType.F32, g.shape());
        be.powScalarBackward(Placement.data("pow backward", be, x), p, Placement.data("pow backward", be, g), out);
        return out;
    }

    /** {dGate, dUp} of SwiGLU for upstream g; an unwanted one is null (and not computed). */
    public static Tensor[] swiglu(Tensor gate, Tensor up, Tensor g, boolean wantGate, boolean wantUp) {
        OpChecks.requireSameShape("swiglu backward", gate, up);
        OpChecks.requireSameShape("swiglu backward", gate, g);
        Backend be = Placement.of(g);
        Tensor dGate = wantGate ? be.allocateOutput(DType.F32, g.shape()) : null, dUp = wantUp ? be.allocateOutput(DType.F32, g.shape()) : null;
        if (wantGate || wantUp) {
            be.swigluBackward(Placement.data("swiglu backward", be, gate), Placement.data("swiglu backward", be, up),
                    Placement.data("swiglu backward", be, g), dGate, dUp);
        }
        return new Tensor[] {dGate, dUp};
    }

    /**
     * g summed down to {@code shape}, the shape it was broadcast from (numpy rules: leading dims added,
     * size-1 dims expanded); g itself when the shapes agree.
     */
    public static Tensor sumTo(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        if (shape.length > gs.length || !Arrays.equals(Ops.broadcastShape("sum_to", shape, gs), gs)) {
            throw new IllegalArgumentException("sum_to: " + Arrays.toString(shape) + " does not broadcast to " + Arrays.toString(gs));
        }
        int[] padded = new int[gs.length];
        Arrays.fill(padded, 1);
        System.arraycopy(shape, 0, padded, gs.length - shape.length, shape.length);
        Backend be = Placement.of(g);
        Tensor out = be.allocateOutput(DType.F32, padded);
        be.sumTo(Placement.data("sum_to", be, g), out);
        return out.view(shape);
    }

    /** The gradient of softmax (log false) or log-softmax (log true) along dim, from its output y. */
    public static Tensor softmax(Tensor y, Tensor g, int dim, boolean log) {
        OpChecks.requireSameShape("softmax backward", y, g);
        int d = OpChecks.dim("softmax backward", y, dim), last = y.rank() - 1;
        Backend be = Placement.of(g);
        Tensor yp = Placement.data("softmax backward", be, y), gp = Placement.data("softmax backward", be, g);
        Tensor yr = d == last ? yp : yp.transpose(d, last), gr = d == last ? gp : gp.transpose(d, last);
        Tensor out = be.allocateOutput(DType.F32, yr.shape());
        be.softmaxBackward(yr, gr, log, out);
        return d == last ? out : out.transpose(d, last);
    }

    /** {dx, dw} of RMSNorm for upstream g from the saved rstd ({@link Ops#rmsNormWithRstd}); an unwanted one is null. */
    public static Tensor[] rmsNorm(Tensor x, Tensor weight, Tensor rstd, Tensor g, boolean wantX, boolean wantW) {
        OpChecks.requireSameShape("rms_norm backward", x, g);
        int d = x.rank() == 0 ? 0 : x.size(-1);
        if (weight.rank() != 1 || weight.size(0) != d || d != 0 && rstd.numel() != x.numel() / d) {
            throw new IllegalArgumentException("rms_norm backward: weight " + Arrays.toString(weight.shape()) + " and rstd "
                    + Arrays.toString(rstd.shape()) + " for x " + Arrays.toString(x.shape()));
        }
        Backend be = Placement.of(g);
        Tensor dx = wantX ? be.allocateOutput(DType.F32, x.shape()) : null, dw = wantW ? be.allocate(DType.F32, weight.shape()) : null;
        if (wantX || wantW) {
            be.rmsNormBackward(Placement.data("rms_norm backward", be, x), Placement.data("rms_norm backward", be, weight),
                    Placement.data("rms_norm backward", be, rstd), Placement.data("rms_norm backward", be, g), dx, dw);
        }
        return new Tensor[] {dx, dw};
    }

    /** The gradient of rotary embedding: the inverse rotation R(−θ)·g (R(θ) is orthogonal). */
    public static Tensor rope(Tensor g, Tensor positions, Tensor invFreq) {
        return Ops.rope(g, positions, invFreq, true);
    }

    /** dW (rows, D) = Σ over positions i of g[i] at row ids[i] (ids &lt; 0 skipped): the gradient of an embedding lookup. */
    public static Tensor embedding(Tensor g, Tensor ids, int rows) {
        Tensor dW = Placement.of(g).allocate(DType.F32, rows, g.size(-1));
        embeddingInto(g, ids, dW);
        return dW;
    }

    /** dW[ids[i]] += g[i] into an existing contiguous F32 (rows, D) gradient (ids &lt; 0 skipped). */
    public static void embeddingInto(Tensor g, Tensor ids, Tensor dW) {
        OpChecks.requireInt("embedding backward", ids);
        OpChecks.requireDenseF32("embedding backward", dW);
        int d = dW.rank() == 2 ? dW.size(1) : -1;
        if (d < 0 || g.rank() != ids.rank() + 1 || g.size(-1) != d || !Arrays.equals(Arrays.copyOf(g.shape(), ids.rank()), ids.shape())) {
            throw new IllegalArgumentException("embedding backward: gradient " + Arrays.toString(g.shape()) + " for ids "
                    + Arrays.toString(ids.shape()) + " and weight " + Arrays.toString(dW.shape()));
        }
        Backend be = Placement.owner(dW);
        be.embeddingBackward(Placement.data("embedding backward", be, g).reshape(-1, d), Placement.aux(be, ids).reshape(-1), dW);
    }

    /**
     * {dq, dk, dv} of attention for upstream dOut, from the forward's output and logsumexp
     * ({@link Ops#attentionWithLse}) with the same mask and scale (1/√D when ≤ 0).
     */
    public static Tensor[] attention(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale) {
        OpChecks.checkAttention(q, k, v, mask);
        OpChecks.requireSameShape("attention backward", q, out);
        OpChecks.requireSameShape("attention backward", q, dOut);
        if (lse.rank() != 3 || lse.size(0) != q.size(0) || lse.size(1) != q.size(1) || lse.size(2) != q.size(2)) {
            throw new IllegalArgumentException("attention backward: lse must be (B, T, Hq) for q " + Arrays.toString(q.shape()) + ", got " + lse);
        }
        Backend be = Placement.of(dOut);
        String n = "attention backward";
        Tensor dq = be.allocate(DType.F32, q.shape()), dk = be.allocate(DType.F32, k.shape()), dv = be.allocate(DType.F32, v.shape());
        be.attentionBackward(Placement.data(n, be, q), Placement.data(n, be, k), Placement.data(n, be, v), Placement.data(n, be, out),
                Placement.data(n, be, lse), Placement.data(n, be, dOut), OpChecks.placeMask(be, mask), OpChecks.attentionScale(scale, q), dq, dk, dv);
        return new Tensor[] {dq, dk, dv};
    }

    /** The gradient (N, V) of Σ_rows loss·scale from the saved logsumexp ({@link Ops#crossEntropyWithLse}). */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale) {
        OpChecks.checkCrossEntropy(logits, targets);
        if (lse.rank() != 1 || lse.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("cross_entropy backward: lse must be (N) for logits " + Arrays.toString(logits.shape()) + ", got " + lse);
        }
        Backend be = Placement.of(logits);
        Tensor grad = be.allocateOutput(DType.F32, logits.shape());
        be.crossEntropyBackward(Placement.data("cross_entropy backward", be, logits), Placement.aux(be, targets), ignoreIndex,
                Placement.data("cross_entropy backward", be, lse), scale, grad);
        return grad;
    }

    /**
     * Per-row losses and the gradient of Σ_rows loss·scale in one pass: {losses (N), grad (N, V)}. With
     * {@code consume} and contiguous F32 logits, grad is written over the logits (returned as grad:
     * no second N×V buffer; the logits are destroyed); otherwise grad is a new tensor.
     */
    public static Tensor[] crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, boolean consume) {
        OpChecks.checkCrossEntropy(logits, targets);
        Backend be = Placement.of(logits);
        Tensor x = Placement.data("cross_entropy", be, logits);
        boolean inPlace = consume && x == logits && x.dtype() == DType.F32 && x.isContiguous();
        Tensor grad = inPlace ? x : be.allocateOutput(DType.F32, logits.shape());
        Tensor losses = be.allocateOutput(DType.F32, logits.size(0));
        be.crossEntropyWithGrad(x, Placement.aux(be, targets), ignoreIndex, scale, losses, grad);
        return new Tensor[] {losses, grad};
    }
}
