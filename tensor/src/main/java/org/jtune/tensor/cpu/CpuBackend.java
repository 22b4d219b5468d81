package org.jtune.tensor.cpu;

import org.jtune.tensor.AdamWStep;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Backend;
import org.jtune.tensor.BinaryOp;
import org.jtune.tensor.DType;
import org.jtune.tensor.Device;
import org.jtune.tensor.PagedRows;
import org.jtune.tensor.ReduceOp;
import org.jtune.tensor.SgdStep;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;

/**
 * The CPU backend: host memory (Java heap arrays, which the kernels read directly) and Vector API
 * kernels, one class per family of ops, parallel through {@link org.jtune.tensor.Parallel}.
 * {@link #INSTANCE} is the backend of {@link Device#CPU}; code that must name the CPU explicitly
 * (benchmarks of its kernels) uses it, everything else reaches it through {@code Ops} and the device
 * of its tensors.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocateStorage(DType dtype, long numel) {
        return Storage.allocate(dtype, numel);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() == DType.BLOCK) BlockMatmul.dequantize(src, dst);
        else Elementwise.copy(src, dst);
    }

    @Override
    public void fill(Tensor dst, float value) {
        Elementwise.fill(dst, value);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        Elementwise.map(Elementwise.fn(op), x, out);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor saved, Tensor g, Tensor out) {
        UnaryBackward.unary(op, saved, g, out);
    }

    @Override
    public void affine(Tensor x, float a, float b, Tensor out) {
        if (b == 0f) { // a plain scale (gradients, clipping): no add, so −0 stays −0 as in a·x
            Elementwise.map(new Elementwise.FloatFn() {
                public float apply(float v) {
                    return a * v;
                }

                public jdk.incubator.vector.FloatVector apply(jdk.incubator.vector.FloatVector v) {
                    return v.mul(a);
                }
            }, x, out);
            return;
        }
        Elementwise.map(new Elementwise.FloatFn() {
            public float apply(float v) {
                return a * v + b;
            }

            public jdk.incubator.vector.FloatVector apply(jdk.incubator.vector.FloatVector v) {
                return v.mul(a).add(b);
            }
        }, x, out);
    }

    @Override
    public void powScalar(Tensor x, float p, Tensor out) {
        Elementwise.map(new Elementwise.FloatFn() {
            public float apply(float v) {
                return (float) Math.pow(v, p);
            }

            public jdk.incubator.vector.FloatVector apply(jdk.incubator.vector.FloatVector v) {
                if (p == 2f) return v.mul(v);
                float[] a = v.toArray(); // per lane: the vector POW differs between JIT stages (see VectorMath)
                for (int i = 0; i < a.length; i++) a[i] = (float) Math.pow(a[i], p);
                return jdk.incubator.vector.FloatVector.fromArray(v.species(), a, 0);
            }
        }, x, out);
    }

    @Override
    public void powScalarBackward(Tensor x, float p, Tensor g, Tensor out) {
        UnaryBackward.pow(x, p, g, out);
    }

    @Override
    public void clamp(Tensor x, float lo, float hi, Tensor out) {
        Elementwise.map(new Elementwise.FloatFn() {
            public float apply(float v) {
                return v != v ? v : Math.min(Math.max(v, lo), hi);
            }

            public jdk.incubator.vector.FloatVector apply(jdk.incubator.vector.FloatVector v) {
                return v.max(lo).min(hi);
            }
        }, x, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        Elementwise.binary(op, a, b, out);
    }

    @Override
    public void where(Tensor cond, Tensor a, Tensor b, Tensor out) {
        Elementwise.where(cond, a, b, out);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        SwiGlu.forward(gate, up, out);
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor g, Tensor dGate, Tensor dUp) {
        SwiGlu.backward(gate, up, g, dGate, dUp);
    }

    @Override
    public void loraSegments(Tensor x, int[] starts, Tensor[] a, Tensor[] b, float[] scale, int segments, Tensor out) {
        SegmentedLora.apply(x, starts, a, b, scale, segments, out);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        // Views are read in place, offset and strides included (StridedMatrix): a weight that is a
        // slice of a larger storage must not be copied on every product (a decode step would copy
        // every weight once per token).
        Gemm.matmul(a, b, out, accumulate);
    }

    /**
     * Whether products of 5 to 32 rows with a transposed weight take the multi-row GEMV (the default) or
     * the blocked GEMM as before; for benchmarks that compare both in one run (system property
     * {@code jtune.gemv.multiRow=false}). Both give results within the kernels' tolerance of each other.
     */
    public static void setMultiRowGemv(boolean on) {
        Gemv.setMultiRow(on);
    }

    /**
     * Whether the GEMV (one row or up to {@code Gemv.MAX_ROWS}) loads native F32/BF16 weights through a segment of exact
     * class at their absolute addresses (the default: immune to polluted type profiles) or through the weight's own segment as before; for
     * benchmarks that compare both in one run (system property {@code jtune.gemv.exactSegments=false}). Same bits either way.
     */
    public static void setExactSegmentGemv(boolean on) {
        Gemv.setExactSegments(on);
    }

    /**
     * Whether a one-row GEMV reads its weight rows one at a time (one sequential stream per thread) or four at a time, for
     * every dtype; null restores the default, which picks by lane count (see Gemv's {@code singleStream}). For tests and
     * benchmarks that compare both in one run (system property {@code jtune.gemv.singleStream=true|false}). Same bits either way.
     */
    public static void setSingleStreamGemv(Boolean on) {
        Gemv.setSingleStream(on);
    }

    public static boolean multiRowGemv() {
        return Gemv.multiRow();
    }

    /** Prefill attention four query heads of a kv group at a time ({@link FourHeadAttention}; the same bits either way): for A/B timing. */
    public static void setFourHeadAttention(boolean on) {
        Attention.fourHeads = on;
    }

    /**
     * Whether the GEMM packs its weight strips through a register transpose (the default) or one scalar store per
     * element as before; for benchmarks that compare both in one run (system property
     * {@code jtune.gemm.transposedPacking=false}). The packed values, and so the results, are the same.
     */
    public static void setTransposedPacking(boolean on) {
        PanelPacker.transposed = on;
    }

    public static boolean transposedPacking() {
        return PanelPacker.transposed;
    }

    @Override
    public void blockLinear(Tensor x, Tensor w, Tensor out) {
        BlockMatmul.linear(x, w, out);
    }

    @Override
    public void blockLinearInputGradient(Tensor g, Tensor w, Tensor out, boolean accumulate) {
        BlockMatmul.inputGradient(g, w, out, accumulate);
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) {
        Reductions.reduce(op, x, dim, correction, out);
    }

    @Override
    public void argmax(Tensor x, int dim, Tensor out) {
        Reductions.argmax(x, dim, out);
    }

    @Override
    public void sumTo(Tensor g, Tensor out) {
        Reductions.sumTo(g, out);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return Reductions.sumOfSquares(x);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        Softmax.softmax(x, out);
    }

    @Override
    public void logSoftmax(Tensor x, Tensor out) {
        Softmax.logSoftmax(x, out);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor g, boolean log, Tensor out) {
        Softmax.backward(y, g, log, out);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
        Norms.rmsNorm(x, weight, eps, out, rstd);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor g, Tensor dx, Tensor dw) {
        Norms.rmsNormBackward(x, weight, rstd, g, dx, dw);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        Norms.layerNorm(x, weight, bias, eps, out);
    }

    @Override
    public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) {
        Rope.rope(x, positions, invFreq, inverse, out);
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        if (weight.dtype() == DType.BLOCK) BlockMatmul.embedding(weight, ids, out);
        else Indexing.embedding(weight, ids, out);
    }

    @Override
    public void embeddingBackward(Tensor g, Tensor ids, Tensor dWeight) {
        Indexing.embeddingBackward(g, ids, dWeight);
    }

    @Override
    public void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) {
        Indexing.indexSelect(x, dim, idx, out);
    }

    @Override
    public void gather(Tensor x, int dim, Tensor idx, Tensor out) {
        Indexing.gather(x, dim, idx, out);
    }

    @Override
    public void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        Indexing.scatterAdd(dst, dim, idx, src);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out, Tensor lse) {
        Attention.attention(q, k, v, mask, scale, out, lse);
    }

    @Override
    public void pagedAttention(Tensor q, Tensor keyBlocks, Tensor valueBlocks, PagedRows rows, int window, float scale, Tensor out) {
        PagedRows[] parts = PagedAttention.split(rows);
        if (parts[1].count() > 0) Backend.super.pagedAttention(q, keyBlocks, valueBlocks, parts[1], window, scale, out);
        PagedAttention.attention(q, keyBlocks, valueBlocks, parts[0], window, scale, out);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionMask mask, float scale,
                                  Tensor dq, Tensor dk, Tensor dv) {
        AttentionBackward.backward(q, k, v, out, lse, dOut, mask, scale, dq, dk, dv);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses, Tensor lse) {
        CrossEntropy.crossEntropy(logits, targets, ignoreIndex, losses, lse);
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, int ignoreIndex, Tensor lse, float scale, Tensor grad) {
        CrossEntropy.backward(logits, targets, ignoreIndex, lse, scale, grad);
    }

    @Override
    public void crossEntropyWithGrad(Tensor logits, Tensor targets, int ignoreIndex, float scale, Tensor losses, Tensor grad) {
        CrossEntropy.withGrad(logits, targets, ignoreIndex, scale, losses, grad);
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        TopK.topK(x, k, values, indices);
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        OptimizerUpdates.adamw(param, grad, m, v, step);
    }

    @Override
    public void sgd(Tensor param, Tensor grad, Tensor buf, SgdStep step) {
        OptimizerUpdates.sgd(param, grad, buf, step);
    }
}
