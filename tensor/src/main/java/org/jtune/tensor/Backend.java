package org.jtune.tensor;

/**
 * Every kernel, defined once. Callers go through {@link Ops} (forward ops, copies, allocation),
 * {@link BackwardOps} (gradients) and {@link OptimizerOps} (updates), which check shapes and dtypes, broadcast (by
 * expanding inputs to the output shape with stride-0 views), choose the backend of the inputs' device
 * and allocate outputs through it; a backend receives tensors on its own device (and the host, for
 * {@link #copy}) whose shapes already agree and writes into the outputs. Inputs may be non-contiguous
 * views. Floating inputs may be F32, F16 or BF16 (arithmetic in F32); outputs of floating ops are F32
 * unless stated, and outputs allocated by Ops are contiguous. The CPU backend is the reference; CUDA
 * and OpenCL backends implement the same interface and are checked by the same conformance suite.
 */
public interface Backend {
    String name();

    /** The device whose memory this backend owns and computes on. */
    Device device();

    // ---- memory --------------------------------------------------------------------------------

    /** New zeroed storage for {@code numel} elements of {@code dtype} on this backend's device. */
    Storage allocateStorage(DType dtype, long numel);

    /**
     * A new zeroed contiguous tensor on this backend's device: from the {@link BufferPool} bound to the
     * calling thread when it serves the request, else from {@link #allocateStorage}.
     */
    default Tensor allocate(DType dtype, int... shape) {
        long n = Tensor.numel(shape);
        Storage s = BufferPool.offer(this, dtype, n, true);
        if (s == null) s = allocateStorage(dtype, n);
        return new Tensor(s, dtype, shape, Tensor.contiguousStrides(shape), 0);
    }

    /**
     * New storage its caller overwrites whole before anything reads it: a backend may leave out the zero-fill
     * (a device's memset launch; the CPU's memory comes zeroed anyway).
     */
    default Storage allocateStorageForOverwrite(DType dtype, long numel) {
        return allocateStorage(dtype, numel);
    }

    /**
     * A new contiguous tensor for an op's output that the op writes element by element (every op of this
     * interface that takes an {@code out} does, unless its documentation says the output arrives zeroed or is
     * added into; the conformance suite's simulated device poisons these to check it): like
     * {@link #allocate} but neither the pool nor the backend needs to zero it.
     */
    default Tensor allocateOutput(DType dtype, int... shape) {
        long n = Tensor.numel(shape);
        Storage s = BufferPool.offer(this, dtype, n, false);
        if (s == null) s = allocateStorageForOverwrite(dtype, n);
        return new Tensor(s, dtype, shape, Tensor.contiguousStrides(shape), 0);
    }

    /**
     * dst ← src elementwise, same shape, converting dtypes (round to nearest even for 16-bit floats).
     * Either side may live on this backend's device or on the host: device backends copy both ways here.
     */
    void copy(Tensor src, Tensor dst);  // src may be DType.BLOCK (whole rows or their transpose): dequantized

    void fill(Tensor dst, float value);

    // ---- elementwise ---------------------------------------------------------------------------

    /** out ← op(x). */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /**
     * out ← g·op'(x), the backward of {@link #unary}: {@code saved} is x, or the forward's output y when
     * {@link UnaryOp#gradientFromOutput()} (the rule reads whichever is cheaper; see UnaryOp#derivative).
     */
    void unaryBackward(UnaryOp op, Tensor saved, Tensor g, Tensor out);

    /** out ← a·x + b, elementwise; out may be x (in place). */
    void affine(Tensor x, float a, float b, Tensor out);

    /** out ← x^p. */
    void powScalar(Tensor x, float p, Tensor out);

    /** out ← g·p·x^(p−1), the backward of {@link #powScalar}. */
    void powScalarBackward(Tensor x, float p, Tensor g, Tensor out);

    /** out ← min(max(x, lo), hi); NaN stays NaN. */
    void clamp(Tensor x, float lo, float hi, Tensor out);

    /** out ← op(a, b), all three of the same shape (a and b may have stride-0 dims); out may be a (in place). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out ← cond ≠ 0 ? a : b. */
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /** SwiGLU (Shazeer 2020): out ← silu(gate)·up with silu(a) = a·σ(a). */
    void swiglu(Tensor gate, Tensor up, Tensor out);

    /**
     * The backward of {@link #swiglu} for upstream g: dGate ← g·up·σ(gate)·(1 + gate·(1 − σ(gate))),
     * dUp ← g·silu(gate); either output may be null (not wanted).
     */
    void swigluBackward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp);

    // ---- reductions ----------------------------------------------------------------------------

    /** out (x's shape with {@code dim} of size 1) ← reduction of x along dim. {@code correction} is used by VAR. */
    void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out);

    /** out (I32, x's shape with dim of size 1) ← index of the first maximum along dim (NaN counts as maximum). */
    void argmax(Tensor x, int dim, Tensor out);

    /**
     * out ← g summed over the dims along which out's shape was broadcast to g's (the backward of
     * broadcasting): out has g's rank, with size 1 where it was broadcast. Fixed summation order.
     */
    void sumTo(Tensor g, Tensor out);

    /** Σ x² over all elements, in double, in an order that depends only on the element count. */
    double sumOfSquares(Tensor x);

    /** Stable softmax along the last dim. */
    void softmax(Tensor x, Tensor out);

    /** Stable log-softmax along the last dim. */
    void logSoftmax(Tensor x, Tensor out);

    /**
     * The backward of softmax (log false): out ← y∘(g − Σ g∘y), or of log-softmax (log true):
     * out ← g − e^y·Σ g, along the last dim, from the forward's output y.
     */
    void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out);

    // ---- matmul and norms ----------------------------------------------------------------------

    /**
     * out (..., M, N) ← a (..., M, K) · b (..., K, N) (+ out when {@code accumulate}). Batch dims agree
     * (broadcast already applied); any strides, so transposed operands need no copy. b may be F16/BF16.
     */
    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /**
     * out (M, rows) ← x (M, cols) · Wᵀ for a block-quantized weight W ({@link DType#BLOCK}, a (rows, cols)
     * view of whole rows, its codec in {@link Tensor#blockCodec()}): a Linear layer's forward. x is F32/F16/BF16
     * of any layout; out is contiguous F32. W is never expanded to full precision (see docs/QUANT.md).
     */
    default void blockLinear(Tensor x, Tensor w, Tensor out) {
        throw new UnsupportedOperationException(name() + " has no kernels for block-quantized weights (" + w.blockCodec().name() + ")");
    }

    /**
     * out (M, cols) ← g (M, rows) · W (+ out when {@code accumulate}) for a block-quantized W as in
     * {@link #blockLinear}: the gradient a frozen quantized weight passes to its layer's input (QLoRA).
     */
    default void blockLinearInputGradient(Tensor g, Tensor w, Tensor out, boolean accumulate) {
        throw new UnsupportedOperationException(name() + " has no kernels for block-quantized weights (" + w.blockCodec().name() + ")");
    }

    /**
     * Segmented LoRA (Punica's SGMV shrink and expand): for each of the first {@code segments} segments s, rows
     * [starts[s], starts[s + 1]) of x (M, in), when a[s] is not null: out rows += scale[s] · (x rows · a[s]ᵀ) · b[s]ᵀ
     * with a[s] (r, in) and b[s] (out, r). out (M, out) is contiguous F32; segments lie in row order within [0, M].
     * This default runs one pair of products per segment; the CPU backend does all segments in one pass.
     */
    default void loraSegments(Tensor x, int[] starts, Tensor[] a, Tensor[] b, float[] scale, int segments, Tensor out) {
        for (int s = 0; s < segments; s++) {
            int rows = starts[s + 1] - starts[s];
            if (a[s] == null || rows == 0) continue;
            Tensor h = allocate(DType.F32, rows, a[s].size(0));
            matmul(x.narrow(0, starts[s], rows), a[s].t(), h, false);
            affine(h, scale[s], 0f, h);
            matmul(h, b[s].t(), out.narrow(0, starts[s], rows), true);
        }
    }

    /**
     * out ← x · r · weight with r = rsqrt(mean(x², last dim) + eps) per row; when {@code rstd} (the
     * rows of x, F32) is not null it receives r (what the backward needs).
     */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd);

    /**
     * The backward of {@link #rmsNorm} for upstream g, from the saved r: with x̂ = x·r,
     * dx ← r·(g∘w − x̂·mean(g∘w∘x̂)) and dw ← Σ_rows g∘x̂; either output may be null (not wanted).
     * dw's sum over rows has a fixed order that does not depend on the thread count; dw arrives zeroed.
     */
    void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor g, Tensor dx, Tensor dw);

    /** out ← (x − mean) · rsqrt(var + eps) · weight + bias over the last dim (biased variance); bias may be null. */
    void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out);

    /**
     * Rotary embedding, Hugging Face rotate_half layout: x (B, T, H, D), positions I32 (B, T),
     * invFreq F32 (D/2). For i &lt; D/2, θ = pos·invFreq[i]: out[i] = x[i]cosθ − x[i+D/2]sinθ,
     * out[i+D/2] = x[i+D/2]cosθ + x[i]sinθ. {@code inverse} rotates by −θ (the backward pass).
     */
    void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out);

    // ---- indexing ------------------------------------------------------------------------------

    /** out (N, D) ← weight (V, D) rows ids (N, I32). An id outside [0, V) is an error naming it. */
    void embedding(Tensor weight, Tensor ids, Tensor out);  // weight may be DType.BLOCK (rows dequantized)

    /**
     * The backward of {@link #embedding}: dWeight[ids[i]] += g[i] for g (N, D), ids (N, I32), dWeight
     * (V, D) F32, added into (not overwriting) dWeight. Ids &lt; 0 are skipped; an id ≥ V is an error.
     * Repeated ids add in position order (deterministic).
     */
    void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight);

    /** out ← x with dim indexed by idx (1-D I32). */
    void indexSelect(Tensor x, int dim, Tensor idx, Tensor out);

    /** out[i][j] ← x[i][idx[i][j]] along dim (torch.gather); idx and out have the same shape. */
    void gather(Tensor x, int dim, Tensor idx, Tensor out);

    /** dst[...idx[i][j]...] += src[i][j] along dim (torch.scatter_add_), in place. */
    void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src);

    // ---- attention and loss --------------------------------------------------------------------

    /**
     * Scaled-dot-product attention with grouped KV heads: q (B, T, Hq, D), k and v (B, S, Hkv, D),
     * Hq a multiple of Hkv (query head h uses kv head h / (Hq/Hkv)), out (B, T, Hq, D) F32, visible
     * keys as {@link AttentionMask} says. When {@code lse} (B, T, Hq) F32 is not null it receives each
     * row's log Σ_j e^{s_j} (−∞ for a query with no visible key, which gets zeros).
     */
    void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse);

    /**
     * Attention of several sequences' newest query rows over their paged KV caches (PagedAttention, Kwon et al. 2023) in one
     * call: keyBlocks and valueBlocks (blocks, blockSize, Hkv, D) F32 hold the positions of every sequence block by block as
     * {@code rows} says; q (1, n, Hq, D) holds the query rows of all sequences packed, out (1, n, Hq, D) F32 receives each
     * sequence's rows as {@link #attention} of those rows over the sequence's keys and values laid end to end would give them
     * (causal, queries at the sequence's last positions, within {@code window}; 0: none). Rows of out that no sequence owns
     * are left as they are. This default gathers each sequence's positions and calls {@link #attention}; the CPU backend
     * reads the blocks in place.
     */
    default void pagedAttention(Tensor q, Tensor keyBlocks, Tensor valueBlocks, PagedRows rows, int window, float scale, Tensor out) {
        int bs = keyBlocks.size(1), hkv = keyBlocks.size(2), d = keyBlocks.size(3);
        for (int s = 0; s < rows.count(); s++) {
            int t = rows.rowCount()[s], len = rows.lengths()[s], start = rows.rowStart()[s];
            if (t == 0) continue;
            Tensor k = allocateOutput(DType.F32, 1, len, hkv, d), v = allocateOutput(DType.F32, 1, len, hkv, d);
            for (int p = 0; p < len; p += bs) {
                int block = rows.tables()[s][p / bs], n = Math.min(bs, len - p);
                copy(keyBlocks.select(0, block).narrow(0, 0, n), k.select(0, 0).narrow(0, p, n));
                copy(valueBlocks.select(0, block).narrow(0, 0, n), v.select(0, 0).narrow(0, p, n));
            }
            attention(q.narrow(1, start, t), k, v, new AttentionMask(true, window, len - t, null), scale, out.narrow(1, start, t), null);
        }
    }

    /**
     * The backward of {@link #attention} for upstream dOut (FlashAttention-2's, Dao 2023): from q, k,
     * v, the forward's out and lse, with p_j = e^{s_j − lse}: Δ = dOut·out, ds_j = p_j (dOut·v_j − Δ),
     * dq ← scale Σ_j ds_j k_j, dk_j ← scale Σ ds_j q, dv_j ← Σ p_j dOut (summed over the query heads
     * that share a kv head). dq, dk, dv are zeroed outputs of q's, k's and v's shapes.
     */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                           Tensor dq, Tensor dk, Tensor dv);

    /**
     * losses (N) ← logsumexp(logits (N, V) row) − logit of the target, per row; rows whose target
     * equals {@code ignoreIndex} get 0. When {@code lse} (N) is not null it receives each row's
     * logsumexp (0 for an ignored row, which the backward never reads). A target outside [0, V) that
     * is not ignored is an error naming the row.
     */
    void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse);

    /**
     * The gradient of the summed losses, scaled: grad[i][j] ← (e^{logits[i][j] − lse[i]} − [j = target_i])·scale,
     * zero rows for ignored targets. grad may be logits itself (contiguous F32; overwritten).
     */
    void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad);

    /**
     * {@link #crossEntropy} and {@link #crossEntropyBackward} in one pass over each row while it is in
     * cache: losses per row and grad as there. grad may be logits itself, so that no second N×V buffer
     * exists (the logits are then destroyed).
     */
    void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad);

    /** The k largest values along the last dim, in descending order, with their indices (I32); ties keep the lower index first. */
    void topK(Tensor x, int k, Tensor values, Tensor indices);

    // ---- optimizer updates ---------------------------------------------------------------------

    /**
     * The fused AdamW update of one parameter (contiguous F32 param, grad, m, v of one shape; param,
     * m and v in place), the formulas of torch.optim.AdamW; see {@link AdamWStep}.
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);

    /** The fused SGD update (torch.optim.SGD) of one parameter; buf is the momentum buffer, null without momentum. See {@link SgdStep}. */
    void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step);
}
