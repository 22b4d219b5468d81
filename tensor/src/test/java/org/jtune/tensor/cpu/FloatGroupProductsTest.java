package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import org.jtune.tensor.DType;
import org.jtune.tensor.FloatRowGroups;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * F32 and BF16 weights in groups of 32 rows stored column by column ({@link FloatRowGroups}) and their products
 * ({@link FloatGroupProducts}): against a double-precision reference within the bound of a sequential sum (|error| ≤
 * γ_K·Σ|x·w|, γ_K = K·u/(1 − K·u), u = 2⁻²⁴; BF16 weights are exact in F32), on odd shapes (K of 3, 7, 37 and one past
 * a K slice; m cut into blocks of eight and four with 0–3 rows left over with 16 lanes, into blocks of six, pairs and
 * a single row with 8), views of whole groups and strided activations;
 * each row's outputs must be the bits of that row alone, of {@link FloatRowGroups#dot}, and the same on one and two
 * threads; the layouts hold the values exactly.
 */
class FloatGroupProductsTest {
    private static final FloatRowGroups[] CODECS = {FloatRowGroups.F32, FloatRowGroups.BF16};
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
    }

    private static void assumeVectorKernels() {
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        assumeTrue(lanes == 16 || lanes == 8, "the row-group products have kernels for 16 and 8 F32 lanes");
    }

    /** A (rows, cols) weight whose values the codec holds exactly. */
    private static Tensor weight(Rng rng, FloatRowGroups codec, int rows, int cols) {
        return Tensor.uniform(rng, -1f, 1f, rows, cols).to(codec.element());
    }

    @Test
    void productsMatchADoubleReferenceWithinTheBoundOfASequentialSum() {
        assumeVectorKernels();
        Rng rng = new Rng(61);
        for (FloatRowGroups codec : CODECS) {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (int cols : new int[] {3, 7, 37, 2049}) {
                    for (int m : new int[] {1, 3, 4, 8, 13, 16, 23}) {
                        int rows = cols == 2049 ? 64 : 96;
                        Tensor w = weight(rng, codec, rows, cols), x = Tensor.uniform(rng, -1f, 1f, m, cols);
                        Tensor out = Ops.linear(x, codec.interleaved(w));
                        assertClose(x, w, out, codec.name() + " threads=" + threads + " m=" + m + " cols=" + cols);
                    }
                }
            }
        }
    }

    @Test
    void aRowHasTheSameBitsAloneInABatchAsTheDotAndOnAnyThreadCount() {
        assumeVectorKernels();
        Rng rng = new Rng(62);
        int rows = 64, cols = 301, m = 21;
        for (FloatRowGroups codec : CODECS) {
            Tensor w = weight(rng, codec, rows, cols), x = Tensor.uniform(rng, -1f, 1f, m, cols);
            Tensor packed = codec.interleaved(w);
            Parallel.setThreads(2);
            float[] batch = Ops.linear(x, packed).toFloatArray();
            Parallel.setThreads(1);
            assertArrayEquals(batch, Ops.linear(x, packed).toFloatArray(), codec.name() + ": one and two threads");
            MemorySegment bytes = packed.storage().segment();
            float[] xs = x.toFloatArray();
            for (int i = 0; i < m; i++) {
                float[] alone = Ops.linear(x.narrow(0, i, 1), packed).toFloatArray();
                for (int r = 0; r < rows; r++) {
                    String what = codec.name() + " row " + i + " output " + r;
                    assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batch[i * rows + r]), what + " alone and in the batch");
                    float dot = codec.dot(bytes, r * codec.rowBytes(cols), cols, xs, i * cols);
                    assertEquals(Float.floatToRawIntBits(dot), Float.floatToRawIntBits(alone[r]), what + " and the codec's dot");
                }
            }
        }
    }

    @Test
    void moreRowsThanOnePassGiveEachRowItsOwnBits() {
        assumeVectorKernels();
        Rng rng = new Rng(65);
        int m = FloatGroupProducts.PASS_ROWS + 21, rows = 32, cols = 7;
        for (FloatRowGroups codec : CODECS) {
            Tensor w = weight(rng, codec, rows, cols), x = Tensor.uniform(rng, -1f, 1f, m, cols);
            Tensor packed = codec.interleaved(w);
            Tensor out = Ops.linear(x, packed);
            assertClose(x, w, out, codec.name() + " m=" + m);
            for (int i : new int[] {0, FloatGroupProducts.PASS_ROWS - 1, FloatGroupProducts.PASS_ROWS, m - 1}) {
                assertArrayEquals(Ops.linear(x.narrow(0, i, 1), packed).toFloatArray(), out.narrow(0, i, 1).toFloatArray(), codec.name() + " row " + i);
            }
        }
    }

    @Test
    void viewsOfWholeGroupsAndStridedActivations() {
        assumeVectorKernels();
        Rng rng = new Rng(63);
        int rows = 128, cols = 40;
        for (FloatRowGroups codec : CODECS) {
            Tensor w = weight(rng, codec, rows, cols);
            Tensor packed = codec.interleaved(w);
            Tensor xt = Tensor.uniform(rng, -1f, 1f, cols, 11).t();            // (11, cols), column-strided
            assertClose(xt, w.narrow(0, 32, 64), Ops.linear(xt, packed.narrow(0, 32, 64)), codec.name() + " groups 1-2 of 4, transposed activations");
            assertThrows(IllegalArgumentException.class, () -> Ops.linear(xt, packed.narrow(0, 16, 32)), "a view not on a group");
        }
    }

    @Test
    void theLayoutsHoldTheValuesExactly() {
        Rng rng = new Rng(64);
        int rows = 64, cols = 19;
        for (FloatRowGroups codec : CODECS) {
            Tensor w = Tensor.uniform(rng, -3f, 3f, rows, cols).to(codec.element());
            Tensor packed = codec.interleaved(w.t().contiguous().t());   // a strided source
            Tensor plain = FloatRowGroups.plain(packed);
            assertEquals(codec.element(), plain.dtype());
            assertArrayEquals(w.toFloatArray(), plain.toFloatArray(), codec.name());
            assertArrayEquals(w.toFloatArray(), packed.to(DType.F32).toFloatArray(), codec.name() + " dequantized through the backend");
            float[] part = new float[5];
            codec.dequantize(packed.storage().segment(), 37 * codec.rowBytes(cols), cols, 3, 5, part, 0);
            for (int k = 0; k < 5; k++) assertEquals(w.get(37, 3 + k), part[k], codec.name() + " row 37");
            float[] row = Tensor.uniform(rng, -1f, 1f, cols).to(codec.element()).toFloatArray();
            codec.encodeRow(row, 0, cols, packed.storage().segment(), 45 * codec.rowBytes(cols));
            float[] back = new float[cols];
            codec.dequantize(packed.storage().segment(), 45 * codec.rowBytes(cols), cols, 0, cols, back, 0);
            assertArrayEquals(row, back, codec.name() + " an encoded row");
            assertThrows(IllegalArgumentException.class, () -> codec.interleaved(Tensor.zeros(33, 8)), "33 rows");
        }
        Tensor f32 = Tensor.uniform(rng, -1f, 1f, 32, 8);
        assertArrayEquals(f32.to(DType.BF16).toFloatArray(), FloatRowGroups.plain(FloatRowGroups.BF16.interleaved(f32)).toFloatArray(), "F32 rounded to BF16");
        assertTrue(!FloatRowGroups.fits(0, 8) && !FloatRowGroups.fits(32, 0) && FloatRowGroups.fits(64, 1));
        assertEquals(null, FloatRowGroups.of(DType.F16));
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
