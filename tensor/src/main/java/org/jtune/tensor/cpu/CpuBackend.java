package org.jtune.tensor.cpu;

import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.Backend;
import org.jtune.tensor.BinaryOp;
import org.jtune.tensor.ReduceOp;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.UnaryOp;

/** The CPU backend: Vector API kernels, one class per family of ops, parallel through {@link org.jtune.tensor.Parallel}. */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Elementwise.copy(src, dst);
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
    public void affine(Tensor x, float a, float b, Tensor out) {
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
                return p == 2f ? v.mul(v) : v.lanewise(jdk.incubator.vector.VectorOperators.POW, p);
            }
        }, x, out);
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
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        Gemm.matmul(a, b, out, accumulate);
    }

    // The kernels below are written in the next step of the tensor issue (reductions, normalisation,
    // rope, indexing, attention, loss, top-k).

    @Override
    public void reduce(ReduceOp op, Tensor x, int dim, int correction, Tensor out) {
        throw new UnsupportedOperationException("reduce");
    }

    @Override
    public void argmax(Tensor x, int dim, Tensor out) {
        throw new UnsupportedOperationException("argmax");
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        throw new UnsupportedOperationException("softmax");
    }

    @Override
    public void logSoftmax(Tensor x, Tensor out) {
        throw new UnsupportedOperationException("logSoftmax");
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        throw new UnsupportedOperationException("rmsNorm");
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out) {
        throw new UnsupportedOperationException("layerNorm");
    }

    @Override
    public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse, Tensor out) {
        throw new UnsupportedOperationException("rope");
    }

    @Override
    public void embedding(Tensor weight, Tensor ids, Tensor out) {
        throw new UnsupportedOperationException("embedding");
    }

    @Override
    public void indexSelect(Tensor x, int dim, Tensor idx, Tensor out) {
        throw new UnsupportedOperationException("indexSelect");
    }

    @Override
    public void gather(Tensor x, int dim, Tensor idx, Tensor out) {
        throw new UnsupportedOperationException("gather");
    }

    @Override
    public void scatterAdd(Tensor dst, int dim, Tensor idx, Tensor src) {
        throw new UnsupportedOperationException("scatterAdd");
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionMask mask, float scale, Tensor out) {
        throw new UnsupportedOperationException("attention");
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Tensor losses) {
        throw new UnsupportedOperationException("crossEntropy");
    }

    @Override
    public void topK(Tensor x, int k, Tensor values, Tensor indices) {
        throw new UnsupportedOperationException("topK");
    }
}
