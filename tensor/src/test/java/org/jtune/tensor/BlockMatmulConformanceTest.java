package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.jtune.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The block-quantized weight seam: Ops.linear / Ops.matmul / Ops.matmulInto / Ops.embedding / to(F32) with a
 * {@link DType#BLOCK} weight reach the backend's block kernels, against a double-precision reference over the
 * weight's dequantized values, on odd shapes (rows not a multiple of the 4-row tile nor of the 32-row panel, m of 1, 2, odd, and past
 * the 64-row gradient block; cols past the 512-column tile), inputs in random layouts and dtypes, and the same
 * bits for any thread count. The codec is a test codec with a row header ({@link RowScaledInt8Codec}).
 */
class BlockMatmulConformanceTest {
    private static final double U = 0x1p-24;

    /** Per element: a k-term F32 sum of products errs by at most (k+2)·U·Σ|terms|, plus tiny absolute slack. */
    private static void close(String what, float[] got, double[] want, double[] mag, int k) {
        assertEquals(want.length, got.length, what + ": size");
        for (int i = 0; i < got.length; i++) {
            double tol = (k + 2) * U * mag[i] + 1e-30;
            if (!(Math.abs(got[i] - want[i]) <= tol)) fail(what + ": element " + i + " is " + got[i] + ", want " + want[i] + " ± " + tol);
        }
    }

    /** Row i of X (xv, cols wide) times every row of W, in double: want[at + r] = Σ_c x·w in order c = 0, 1, …, mag the Σ|x·w|. */
    private static void forwardRow(double[] xv, double[] w, int i, int rows, int cols, double[] want, double[] mag, int at) {
        for (int r = 0; r < rows; r++) {
            double sum = 0, abs = 0;
            for (int c = 0; c < cols; c++) {
                double t = xv[i * cols + c] * w[r * cols + c];
                sum += t;
                abs += Math.abs(t);
            }
            want[at + r] = sum;
            mag[at + r] = abs;
        }
    }

    /**
     * From 64 rows of G on, the input gradient goes through F32 panels of dequantized weight rows and the blocked
     * GEMM (BlockMatmul.panelInputGradient): 1100 × 2056 weights are two panels of ~2M floats, the second one
     * short, summed one after the other; the forward of the same 65 rows goes through BlockPanelGemm.
     */
    @Test
    void panelsOfWeightRowsMatchTheReference() {
        Rng rng = new Rng(31);
        int rows = 1100, cols = 2056, m = 65;
        Tensor q = RowScaledInt8Codec.quantize(Tensor.randn(rng, 1f, rows, cols).toFloatArray(), rows, cols);
        double[] w = RowScaledInt8Codec.values(q);
        Tensor x = Layouts.any(rng, Layouts.NORMAL, true, m, cols);
        double[] xv = Ref.of(x).v();
        double[] want = new double[m * rows], mag = new double[m * rows];
        for (int i = 0; i < m; i++) forwardRow(xv, w, i, rows, cols, want, mag, i * rows);
        close("panel linear", Ops.linear(x, q).toFloatArray(), want, mag, cols);
        Tensor g = Layouts.any(rng, Layouts.NORMAL, true, m, rows);
        double[] gv = Ref.of(g).v();
        double[] dx = new double[m * cols], dmag = new double[m * cols];
        for (int i = 0; i < m; i++) {
            for (int r = 0; r < rows; r++) {
                double gi = gv[i * rows + r];
                for (int c = 0; c < cols; c++) {
                    dx[i * cols + c] += gi * w[r * cols + c];
                    dmag[i * cols + c] += Math.abs(gi * w[r * cols + c]);
                }
            }
        }
        close("panel input gradient", Ops.matmul(g, q).toFloatArray(), dx, dmag, rows);
        Tensor acc = Tensor.ones(m, cols);
        Ops.matmulInto(g, q, acc, true);
        for (int i = 0; i < dx.length; i++) {
            dx[i] += 1;
            dmag[i] += 1;
        }
        close("panel accumulated input gradient", acc.toFloatArray(), dx, dmag, rows + 1);
    }

    /**
     * A forward of 1031 rows (on 8-lane machines from 1024 rows W goes through F32 panels and the blocked GEMM,
     * BlockMatmul.panelGemm; elsewhere through BlockPanelGemm): 700 × 3080 weights are two panels, the second 28 rows
     * (or so) short; checked on the first, last and every 97th row of X against the double reference.
     */
    @Test
    void aForwardOfManyRowsMatchesTheReference() {
        Rng rng = new Rng(37);
        int rows = 700, cols = 3080, m = 1031;
        Tensor q = RowScaledInt8Codec.quantize(Tensor.randn(rng, 1f, rows, cols).toFloatArray(), rows, cols);
        double[] w = RowScaledInt8Codec.values(q);
        Tensor x = Layouts.any(rng, Layouts.NORMAL, true, m, cols);
        double[] xv = Ref.of(x).v();
        float[] got = Ops.linear(x, q).toFloatArray();
        for (int i = 0; i < m; i++) {
            if (i > 5 && i < m - 6 && i % 97 != 0) continue;
            double[] want = new double[rows], mag = new double[rows];
            forwardRow(xv, w, i, rows, cols, want, mag, 0);
            close("linear of " + m + " rows, row " + i, java.util.Arrays.copyOfRange(got, i * rows, (i + 1) * rows), want, mag, cols);
        }
    }

    @Test
    void forwardAndInputGradientMatchTheReferenceOnOddShapes() {
        Rng rng = new Rng(12);
        int[][] shapes = {{1, 8}, {5, 24}, {7, 520}, {13, 1032}, {4, 64}, {37, 264}};
        int[] ms = {1, 2, 3, 7, 70};
        for (int[] s : shapes) {
            int rows = s[0], cols = s[1];
            Tensor q = RowScaledInt8Codec.quantize(Tensor.randn(rng, 1f, rows, cols).toFloatArray(), rows, cols);
            double[] w = RowScaledInt8Codec.values(q);
            for (int m : ms) {
                Tensor x = Layouts.any(rng, Layouts.NORMAL, true, m, cols);
                double[] xv = Ref.of(x).v();
                double[] want = new double[m * rows], mag = new double[m * rows];
                for (int i = 0; i < m; i++) forwardRow(xv, w, i, rows, cols, want, mag, i * rows);
                close("linear " + m + "×" + rows + "×" + cols, Ops.linear(x, q).toFloatArray(), want, mag, cols);

                Tensor g = Layouts.any(rng, Layouts.NORMAL, true, m, rows);
                double[] gv = Ref.of(g).v();
                double[] dx = new double[m * cols], dmag = new double[m * cols];
                for (int i = 0; i < m; i++) {
                    for (int c = 0; c < cols; c++) {
                        for (int r = 0; r < rows; r++) {
                            dx[i * cols + c] += gv[i * rows + r] * w[r * cols + c];
                            dmag[i * cols + c] += Math.abs(gv[i * rows + r] * w[r * cols + c]);
                        }
                    }
                }
                close("input gradient " + m + "×" + rows + "×" + cols, Ops.matmul(g, q).toFloatArray(), dx, dmag, rows);

                Tensor acc = Tensor.ones(m, cols);
                Ops.matmulInto(g, q, acc, true);
                double[] plusOne = dx.clone(), magOne = dmag.clone();
                for (int i = 0; i < plusOne.length; i++) {
                    plusOne[i] += 1;
                    magOne[i] += 1;
                }
                close("accumulated input gradient", acc.toFloatArray(), plusOne, magOne, rows + 1);
            }
        }
    }

    @Test
    void rowViewsDequantizationAndEmbeddingReadTheCodec() {
        Rng rng = new Rng(3);
        int rows = 9, cols = 40;
        Tensor q = RowScaledInt8Codec.quantize(Tensor.randn(rng, 1f, rows, cols).toFloatArray(), rows, cols);
        double[] w = RowScaledInt8Codec.values(q);
        float[] all = q.to(DType.F32).toFloatArray();
        for (int i = 0; i < all.length; i++) assertEquals((float) w[i], all[i], "dequantized element " + i);
        float[] tr = q.t().to(DType.F32).toFloatArray();
        for (int c = 0; c < cols; c++) for (int r = 0; r < rows; r++) assertEquals((float) w[r * cols + c], tr[c * rows + r]);
        float[] part = q.narrow(0, 3, 4).to(DType.F32).toFloatArray();
        for (int i = 0; i < part.length; i++) assertEquals((float) w[3 * cols + i], part[i], "narrowed rows");
        float[] emb = Ops.embedding(q, Tensor.ofInts(new int[] {8, 0, 8, 2}, 2, 2)).toFloatArray();
        int[] ids = {8, 0, 8, 2};
        for (int i = 0; i < 4; i++) for (int c = 0; c < cols; c++) assertEquals((float) w[ids[i] * cols + c], emb[i * cols + c]);
        assertThrows(IllegalArgumentException.class, () -> Ops.embedding(q, Tensor.ofInts(new int[] {9}, 1)));
        assertThrows(IllegalArgumentException.class, () -> Ops.linear(Tensor.zeros(2, 40), q.narrow(1, 0, 8)));
        assertThrows(IllegalArgumentException.class, () -> Ops.add(q, q), "generic ops refuse block data by its dtype");
        assertThrows(IllegalStateException.class, () -> q.get(0, 0));
    }

    @Test
    void sameBitsForAnyThreadCount() {
        Rng rng = new Rng(5);
        int rows = 37, cols = 1040, m = 67;
        Tensor q = RowScaledInt8Codec.quantize(Tensor.randn(rng, 1f, rows, cols).toFloatArray(), rows, cols);
        Tensor x = Tensor.randn(rng, 1f, m, cols), g = Tensor.randn(rng, 1f, m, rows), x1 = Tensor.randn(rng, 1f, 1, cols);
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] y1 = Ops.linear(x, q).toFloatArray(), d1 = Ops.matmul(g, q).toFloatArray(), v1 = Ops.linear(x1, q).toFloatArray();
            Parallel.setThreads(3);
            assertArrayEquals(y1, Ops.linear(x, q).toFloatArray());
            assertArrayEquals(d1, Ops.matmul(g, q).toFloatArray());
            assertArrayEquals(v1, Ops.linear(x1, q).toFloatArray());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void aBackendWithoutBlockKernelsSaysSo() {
        Tensor q = RowScaledInt8Codec.quantize(new float[16], 2, 8);
        Backend bare = SimulatedDevice.INSTANCE;
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> bare.blockLinear(Tensor.zeros(1, 8), q, Tensor.zeros(1, 2)));
        assertEquals(true, e.getMessage().contains("test_rowscaled_i8"), e.getMessage());
        assertEquals(CpuBackend.INSTANCE, Device.CPU.backend());
    }
}
