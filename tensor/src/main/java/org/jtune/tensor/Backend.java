package org.jtune.tensor;

import org.jtune.tensor.cpu.CpuBackend;

/**
 * Every kernel, defined once. Callers go through {@link Ops}, which checks shapes and dtypes,
 * broadcasts (by expanding inputs to the output shape with stride-0 views) and allocates outputs;
 * a backend receives tensors whose shapes already agree and writes into {@code out}. Inputs may be
 * non-contiguous views. Floating inputs may be F32, F16 or BF16 (arithmetic in F32); outputs of
 * floating ops are F32 unless stated. The CPU backend is the reference; CUDA and OpenCL backends
 * implement the same interface and are checked by the same conformance suite.
 */
public interface Backend {
    static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    String name();

    /** dst ← src elementwise, same shape, converting dtypes (round to nearest even for 16-bit floats). */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor dst, float value);

    /** out ← op(x). */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** out ← a·x + b, elementwise. */
    void affine(Tensor x, float a, float b, Tensor out);

    /** out ← x^p. */
    void powScalar(Tensor x, float p, Tensor out);

    /** out ← min(max(x, lo), hi); NaN stays NaN. */
    void clamp(Tensor x, float lo, float hi, Tensor out);

    /** out ← op(a, b), all three of the same shape (a and b may have stride-0 dims). */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out ← cond ≠ 0 ? a : b. */
    void where(Tensor cond, Tensor a, Tensor b, Tensor out);

    /** out (x's shape with {@code dim} of size 1) ← reduction of x along dim. {@code correction} is used by VAR. */
    void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out);

    /** out (I32, x's shape with dim of size 1) ← index of the first maximum along dim (NaN counts as maximum). */
    void argmax(Tensor x, int dim, Tensor out);

    /** Stable softmax along the last dim. */
    void softmax(Tensor x, Tensor out);

    /** Stable log-softmax along the last dim. */
    void logSoftmax(Tensor x, Tensor out);

    /**
     * out (..., M, N) ← a (..., M, K) · b (..., K, N) (+ out when {@code accumulate}). Batch dims agree
     * (broadcast already applied); any strides, so transposed operands need no copy. b may be F16/BF16.
     */
    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /** out ← x · rsqrt(mean(x², last dim) + eps) · weight. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /** out ← (x − mean) · rsqrt(var + eps) · weight + bias over the last dim (biased variance); bias may be null. */
    void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out);

    /**
     * Rotary embedding, Hugging Face rotate_half layout: x (B, T, H, D), positions I32 (B, T),
     * invFreq F32 (D/2). For i &lt; D/2, θ = pos·invFreq[i]: out[i] = x[i]cosθ − x[i+D/2]sinθ,
     * out[i+D/2] = x[i+D/2]cosθ + x[i]sinθ. {@code inverse} rotates by −θ (the backward pass).
     */
    void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out);

    /** out (N, D) ← weight (V, D) rows ids (N, I32). An id outside [0, V) is an error naming it. */
    void embedding(Tensor weight, Tensor ids, Tensor out);

    /** out ← x with dim indexed by idx (1-D I32). */
    void indexSelect(Tensor x, int dim, Tensor idx, Tensor out);

    /** out[i][j] ← x[i][idx[i][j]] along dim (torch.gather); idx and out have the same shape. */
    void gather(Tensor x, int dim, Tensor idx, Tensor out);

    /** dst[...idx[i][j]...] += src[i][j] along dim (torch.scatter_add_), in place. */
    void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src);

    /**
     * Causal scaled-dot-product attention with grouped KV heads: q (B, T, Hq, D), k and v (B, S, Hkv, D),
     * Hq a multiple of Hkv (query head h uses kv head h / (Hq/Hkv)), out (B, T, Hq, D) F32.
     * A query with no visible key gets zeros.
     */
    void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out);

    /**
     * losses (N) ← −log softmax(logits (N, V))[target] per row; rows whose target equals
     * {@code ignoreIndex} get 0. A target outside [0, V) that is not ignored is an error naming the row.
     */
    void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses);

    /** The k largest values along the last dim, in descending order, with their indices (I32); ties keep the lower index first. */
    void topK(Tensor x, int k, Tensor values, Tensor indices);
}
