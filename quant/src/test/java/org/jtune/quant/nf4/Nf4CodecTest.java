package org.jtune.quant.nf4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.jtune.tensor.DType;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * NF4 on the block-quantized weight seam: the codec's (vectorized) chunk dequantization gives the very
 * floats of {@link Nf4Tensor#dequantize} at any even offset, and Ops.linear (forward, x·Wᵀ) and Ops.matmul
 * with W (the input gradient G·W) on an NF4 weight match a double-precision reference over the dequantized
 * values, on odd shapes (cols 172 whose blocks straddle rows, cols past the 512 tile, m of 1, 2, 3, 70).
 */
class Nf4CodecTest {
    private static final double U = 0x1p-24;

    @Test
    void chunksDequantizeAsTheTensorDoes() {
        Random r = new Random(3);
        for (int[] sh : new int[][] {{3, 172}, {64, 172}, {5, 1030}, {9, 64}, {2, 2}}) {
            int rows = sh[0], cols = sh[1];
            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (boolean dq : new boolean[] {false, true}) {
                Nf4Tensor t = Nf4Tensor.quantize(x, rows, cols, 64, dq);
                Tensor w = Nf4Codec.tensor(t);
                assertEquals(DType.BLOCK, w.dtype());
                assertSame(t.codes(), Nf4Codec.of(w).codes());
                float[] all = t.dequantizeAll();
                Nf4Codec c = (Nf4Codec) w.blockCodec();
                for (int row = 0; row < rows; row++) {
                    for (int k = 0; k < 6; k++) {
                        int from = 2 * r.nextInt(cols / 2), n = r.nextInt(cols - from + 1);
                        float[] got = new float[n + 3];
                        c.dequantize(t.codes(), row * c.rowBytes(cols), cols, from, n, got, 3);
                        for (int i = 0; i < n; i++) assertEquals(all[row * cols + from + i], got[3 + i], rows + "×" + cols + " row " + row + " from " + from);
                    }
                }
                assertArrayEquals(all, w.to(DType.F32).toFloatArray());
            }
        }
    }

    @Test
    void linearAndInputGradientMatchTheReference() {
        Random r = new Random(11);
        for (int[] sh : new int[][] {{7, 172}, {172, 64}, {5, 1032}, {1, 2}}) {
            int rows = sh[0], cols = sh[1];
            float[] wv = new float[rows * cols];
            for (int i = 0; i < wv.length; i++) wv[i] = (float) r.nextGaussian() * 0.1f;
            Nf4Tensor t = Nf4Tensor.quantize(wv, rows, cols, 64, true);
            Tensor w = Nf4Codec.tensor(t);
            float[] d = t.dequantizeAll();
            for (int m : new int[] {1, 2, 3, 70}) {
                float[] xv = randn(r, m * cols), gv = randn(r, m * rows);
                double[] y = new double[m * rows], ym = new double[m * rows], dx = new double[m * cols], dm = new double[m * cols];
                for (int i = 0; i < m; i++) {
                    for (int o = 0; o < rows; o++) {
                        for (int k = 0; k < cols; k++) {
                            double p = (double) xv[i * cols + k] * d[o * cols + k];
                            y[i * rows + o] += p;
                            ym[i * rows + o] += Math.abs(p);
                            double q = (double) gv[i * rows + o] * d[o * cols + k];
                            dx[i * cols + k] += q;
                            dm[i * cols + k] += Math.abs(q);
                        }
                    }
                }
                close("linear " + m + "×" + rows + "×" + cols, Ops.linear(Tensor.of(xv, m, cols), w).toFloatArray(), y, ym, cols);
                close("dY·W " + m + "×" + rows + "×" + cols, Ops.matmul(Tensor.of(gv, m, rows), w).toFloatArray(), dx, dm, rows);
            }
        }
    }

    private static float[] randn(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static void close(String what, float[] got, double[] want, double[] mag, int k) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < got.length; i++) {
            double tol = (k + 2) * U * mag[i] + 1e-30;
            if (!(Math.abs(got[i] - want[i]) <= tol)) fail(what + ": element " + i + " is " + got[i] + ", want " + want[i] + " ± " + tol);
        }
    }
}
