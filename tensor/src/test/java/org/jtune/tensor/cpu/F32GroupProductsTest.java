package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import org.jtune.tensor.DType;
import org.jtune.tensor.F32RowGroups;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * F32 weights in groups of 32 rows stored column by column ({@link F32RowGroups}) and their products
 * ({@link F32GroupProducts}): against a double-precision reference within the bound of a sequential sum (|error| ≤
 * γ_K·Σ|x·w|, γ_K = K·u/(1 − K·u), u = 2⁻²⁴), on odd shapes (K of 3, 7, 37 and one past a K slice; m cut into blocks of
 * eight and four with 0–3 rows left over), views of whole groups and strided activations; each row's outputs must be the bits of
 * that row alone, of {@link F32RowGroups#dot}, and the same on one and two threads; the layout holds the values exactly.
 */
class F32GroupProductsTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    private static void assumeAvx512() {
        assumeTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() == 16, "f32x32 products need 16 F32 lanes");
    }

    @Test
    void productsMatchADoubleReferenceWithinTheBoundOfASequentialSum() {
        assumeAvx512();
        Rng rng = new Rng(61);
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int cols : new int[] {3, 7, 37, 2049}) {
                for (int m : new int[] {1, 3, 4, 8, 13, 16, 23}) {
                    int rows = cols == 2049 ? 64 : 96;
                    Tensor w = Tensor.uniform(rng, -1f, 1f, rows, cols), x = Tensor.uniform(rng, -1f, 1f, m, cols);
                    Tensor out = Ops.linear(x, F32RowGroups.interleaved(w));
                    assertClose(x, w, out, "threads=" + threads + " m=" + m + " cols=" + cols);
                }
            }
        }
    }

    @Test
    void aRowHasTheSameBitsAloneInABatchAsTheDotAndOnAnyThreadCount() {
        assumeAvx512();
        Rng rng = new Rng(62);
        int rows = 64, cols = 301, m = 21;
        Tensor w = Tensor.uniform(rng, -1f, 1f, rows, cols), x = Tensor.uniform(rng, -1f, 1f, m, cols);
        Tensor packed = F32RowGroups.interleaved(w);
        Parallel.setThreads(2);
        float[] batch = Ops.linear(x, packed).toFloatArray();
        Parallel.setThreads(1);
        float[] batchOneThread = Ops.linear(x, packed).toFloatArray();
        assertArrayEquals(batch, batchOneThread, "one and two threads");
        MemorySegment bytes = packed.storage().segment();
        float[] xs = x.toFloatArray();
        for (int i = 0; i < m; i++) {
            float[] alone = Ops.linear(x.narrow(0, i, 1), packed).toFloatArray();
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batch[i * rows + r]), "row " + i + " output " + r + " alone and in the batch");
                float dot = F32RowGroups.INSTANCE.dot(bytes, r * 4L * cols, cols, xs, i * cols);
                assertEquals(Float.floatToRawIntBits(dot), Float.floatToRawIntBits(alone[r]), "row " + i + " output " + r + " and the codec's dot");
            }
        }
    }

    @Test
    void viewsOfWholeGroupsAndStridedActivations() {
        assumeAvx512();
        Rng rng = new Rng(63);
        int rows = 128, cols = 40;
        Tensor w = Tensor.uniform(rng, -1f, 1f, rows, cols);
        Tensor packed = F32RowGroups.interleaved(w);
        Tensor xt = Tensor.uniform(rng, -1f, 1f, cols, 11).t();            // (11, cols), column-strided
        Tensor view = packed.narrow(0, 32, 64);
        assertClose(xt, w.narrow(0, 32, 64), Ops.linear(xt, view), "groups 1-2 of 4, transposed activations");
        assertThrows(IllegalArgumentException.class, () -> Ops.linear(xt, packed.narrow(0, 16, 32)), "a view not on a group");
    }

    @Test
    void theLayoutHoldsTheValuesExactly() {
        Rng rng = new Rng(64);
        int rows = 64, cols = 19;
        Tensor w = Tensor.uniform(rng, -3f, 3f, rows, cols);
        Tensor packed = F32RowGroups.interleaved(w.t().contiguous().t());   // a strided source
        assertArrayEquals(w.toFloatArray(), F32RowGroups.plain(packed).toFloatArray());
        assertArrayEquals(w.toFloatArray(), packed.to(DType.F32).toFloatArray(), "dequantized through the backend");
        float[] part = new float[5];
        F32RowGroups.INSTANCE.dequantize(packed.storage().segment(), 37 * 4L * cols, cols, 3, 5, part, 0);
        for (int k = 0; k < 5; k++) assertEquals(w.get(37, 3 + k), part[k]);
        float[] row = Tensor.uniform(rng, -1f, 1f, cols).toFloatArray();
        F32RowGroups.INSTANCE.encodeRow(row, 0, cols, packed.storage().segment(), 45 * 4L * cols);
        float[] back = new float[cols];
        F32RowGroups.INSTANCE.dequantize(packed.storage().segment(), 45 * 4L * cols, cols, 0, cols, back, 0);
        assertArrayEquals(row, back);
        Tensor bf16 = Tensor.uniform(rng, -1f, 1f, 32, 8).to(DType.BF16);
        assertArrayEquals(bf16.toFloatArray(), F32RowGroups.plain(F32RowGroups.interleaved(bf16)).toFloatArray(), "a BF16 source");
        assertThrows(IllegalArgumentException.class, () -> F32RowGroups.interleaved(Tensor.zeros(33, 8)), "33 rows");
        assertTrue(!F32RowGroups.fits(0, 8) && !F32RowGroups.fits(32, 0) && F32RowGroups.fits(64, 1));
    }

    /** |out − x·wᵀ| ≤ γ_K·Σ_k |x_k·w_k| per output, the reference in double precision. */
    private static void assertClose(Tensor x, Tensor w, Tensor out, String what) {
        int m = x.size(0), rows = w.size(0), cols = w.size(1);
        double u = Math.ulp(1.0f) / 2, gamma = cols * u / (1 - cols * u);
        for (int i = 0; i < m; i++) {
            for (int r = 0; r < rows; r++) {
                double ref = 0, abs = 0;
                for (int k = 0; k < cols; k++) {
                    double p = (double) x.get(i, k) * w.get(r, k);
                    ref += p;
                    abs += Math.abs(p);
                }
                double err = Math.abs(out.get(i, r) - ref);
                assertTrue(err <= gamma * abs + Double.MIN_NORMAL, what + ": out[" + i + ", " + r + "] = " + out.get(i, r) + ", reference " + ref
                        + ", error " + err + " > bound " + gamma * abs);
            }
        }
    }
}
