package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The skinny path of the CPU matmul (5 to {@link Gemm#SKINNY_ROWS} rows against a weight in the
 * Linear layout, as in batched decode): each row of a batched product equals, bit for bit, the product
 * of that row alone (the GEMV), at one and two threads. Batched decode therefore gives every sequence
 * the logits it would get alone. Its accuracy against the double-precision reference is GemmTest's
 * (M = 7 and 33 there).
 */
class SkinnyGemmTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(savedThreads);
    }

    @Test
    void eachRowOfABatchedProductEqualsThatRowAlone() {
        Rng rng = new Rng(11);
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            for (int m : new int[] {5, 13, 16, 32}) {
                for (int k : new int[] {7, 300}) {
                    for (int n : new int[] {1, 5, 33, 70}) {
                        Tensor x = Tensor.randn(rng, 1f, m, k);
                        Tensor w = Tensor.randn(rng, 1f, n, k).to(dtype); // (out, in): the product reads it transposed
                        for (int threads = 1; threads <= 2; threads++) {
                            Parallel.setThreads(threads);
                            float[] batched = Ops.matmul(x, w.t()).toFloatArray();
                            for (int i = 0; i < m; i++) {
                                float[] alone = Ops.matmul(x.narrow(0, i, 1), w.t()).toFloatArray();
                                float[] row = java.util.Arrays.copyOfRange(batched, i * n, (i + 1) * n);
                                assertArrayEquals(alone, row, dtype + " " + m + "x" + k + "x" + n + " row " + i + " at " + threads + " threads");
                            }
                        }
                    }
                }
            }
        }
    }
}
