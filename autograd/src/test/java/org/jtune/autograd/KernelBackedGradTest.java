package org.jtune.autograd;

import static org.junit.jupiter.api.Assertions.*;

import org.jtune.tensor.Ops;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ops whose forward is a tensor-module kernel written on another branch (reductions, softmax,
 * embedding, RoPE): gradients against double references. Each test skips, saying so, while its
 * kernel is missing.
 */
class KernelBackedGradTest {
    private static final int[] SHAPE = {3, 4, 5};

    /** Row-major flat index of (i0, i1, i2) in SHAPE. */
    private static int at(int... i) {
        return (i[0] * SHAPE[1] + i[1]) * SHAPE[2] + i[2];
    }

    /** Visits each line along dim: calls body with the flat indices of its elements. */
    private static void lines(int dim, java.util.function.Consumer<int[]> body) {
        int[] other = new int[3];
        for (other[0] = 0; other[0] < (dim == 0 ? 1 : SHAPE[0]); other[0]++)
            for (other[1] = 0; other[1] < (dim == 1 ? 1 : SHAPE[1]); other[1]++)
                for (other[2] = 0; other[2] < (dim == 2 ? 1 : SHAPE[2]); other[2]++) {
                    int[] idx = new int[SHAPE[dim]];
                    for (int k = 0; k < idx.length; k++) {
                        int[] p = other.clone();
                        p[dim] = k;
                        idx[k] = at(p);
                    }
                    body.accept(idx);
                }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void softmaxAndLogSoftmax(int dim) {
        Refs.assumeSoftmaxKernels();
        Tensor x = Refs.randn(new Rng(dim), 2f, true, SHAPE);
        for (boolean log : new boolean[] {false, true}) {
            Refs.check(in -> log ? Softmax.logSoftmax(in[0], dim) : Softmax.softmax(in[0], dim), in -> {
                double[] y = new double[in[0].length];
                lines(dim, idx -> {
                    double m = Double.NEGATIVE_INFINITY, z = 0;
                    for (int i : idx) m = Math.max(m, in[0][i]);
                    for (int i : idx) z += Math.exp(in[0][i] - m);
                    for (int i : idx) y[i] = log ? in[0][i] - m - Math.log(z) : Math.exp(in[0][i] - m) / z;
                });
                return y;
            }, Variable.parameter(x));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void sumMeanMaxAlongADim(int dim) {
        Refs.assumeSoftmaxKernels();
        Refs.assumeKernel("argmax", () -> Ops.argmax(Tensor.ones(2), 0, false));
        Tensor x = Refs.randn(new Rng(10 + dim), 1f, true, SHAPE);
        for (int op = 0; op < 3; op++) {
            for (boolean keep : new boolean[] {false, true}) {
                int which = op;
                Refs.check(in -> switch (which) {
                    case 0 -> Reductions.sum(in[0], dim, keep);
                    case 1 -> Reductions.mean(in[0], dim, keep);
                    default -> Reductions.max(in[0], dim, keep);
                }, in -> {
                    double[] y = new double[in[0].length / SHAPE[dim]];
                    int[] n = {0};
                    lines(dim, idx -> {
                        double s = 0, m = Double.NEGATIVE_INFINITY;
                        for (int i : idx) {
                            s += in[0][i];
                            m = Math.max(m, in[0][i]);
                        }
                        y[n[0]++] = which == 0 ? s : which == 1 ? s / idx.length : m;
                    });
                    return y;
                }, Variable.parameter(x));
            }
        }
        Refs.check(in -> Reductions.sum(in[0]), in -> new double[] {java.util.Arrays.stream(in[0]).sum()}, Variable.parameter(x));
        Refs.check(in -> Reductions.mean(in[0]), in -> new double[] {java.util.Arrays.stream(in[0]).average().orElseThrow()}, Variable.parameter(x));
    }

    @Test
    void embeddingScattersIntoUsedRowsOnly() {
        Refs.assumeKernel("embedding", () -> Ops.embedding(Tensor.ones(2, 2), Tensor.ofInts(new int[] {1}, 1)));
        Rng rng = new Rng(40);
        int v = 9, d = 19;
        int[] ids = {4, 1, 4, 8, 0, 4};
        Tensor idt = Tensor.ofInts(ids, 2, 3);
        Tensor w = Tensor.randn(rng, 1f, v, d);
        Variable table = Variable.parameter(w);
        Refs.check(in -> Embedding.apply(in[0], idt), in -> {
            double[] y = new double[ids.length * d];
            for (int i = 0; i < ids.length; i++) System.arraycopy(in[0], ids[i] * d, y, i * d, d);
            return y;
        }, table);
        for (int c = 0; c < d; c++) assertEquals(0f, table.grad().get(2, c), "row 2 is not used");
        // trainable rows for tokens 4 and 7 over a frozen table: the gradient is (2, d)
        Variable rows = Variable.parameter(Tensor.randn(rng, 1f, 2, d));
        Variable frozen = Variable.constant(w);
        TrainableRows trainable = new TrainableRows(new int[] {4, 7}, rows);
        Refs.check(in -> Embedding.apply(in[0], idt, new TrainableRows(new int[] {4, 7}, in[1])), in -> {
            double[] y = new double[ids.length * d];
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == 4) System.arraycopy(in[1], 0, y, i * d, d);
                else System.arraycopy(in[0], ids[i] * d, y, i * d, d);
            }
            return y;
        }, frozen, rows);
        assertArrayEquals(new int[] {2, d}, rows.grad().shape());
        assertNull(frozen.grad());
        assertNotNull(trainable.values());
    }

    @Test
    void ropeBackwardIsTheInverseRotation() {
        Refs.assumeKernel("rope", () -> Ops.rope(Tensor.ones(1, 1, 1, 2), Tensor.ofInts(new int[] {0}, 1, 1), Tensor.ones(1)));
        Rng rng = new Rng(41);
        int b = 2, t = 3, h = 2, d = 6;
        int[] pos = {0, 1, 2, 5, 6, 7};
        float[] inv = new float[d / 2];
        for (int i = 0; i < d / 2; i++) inv[i] = (float) Math.pow(10000, -2.0 * i / d);
        Tensor positions = Tensor.ofInts(pos, b, t), invFreq = Tensor.of(inv, d / 2);
        Tensor x = Tensor.randn(rng, 1f, b, h, t, d).transpose(1, 2);
        Refs.check(in -> Rope.apply(in[0], positions, invFreq), in -> {
            double[] y = new double[in[0].length];
            for (int r = 0; r < b * t * h; r++) {
                int p = pos[r / h];
                for (int i = 0; i < d / 2; i++) {
                    double th = p * (double) inv[i], c = Math.cos(th), s = Math.sin(th);
                    double x0 = in[0][r * d + i], x1 = in[0][r * d + i + d / 2];
                    y[r * d + i] = x0 * c - x1 * s;
                    y[r * d + i + d / 2] = x1 * c + x0 * s;
                }
            }
            return y;
        }, Variable.parameter(x));
    }
}
