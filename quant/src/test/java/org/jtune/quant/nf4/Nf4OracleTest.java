package org.jtune.quant.nf4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * NF4 against a scalar double-precision oracle written from the paper's definition, on random matrices
 * of odd shapes (cols not a multiple of the block, odd element counts, several block sizes): each code is
 * the level nearest to x/absmax (ties to the lower level), each dequantized value is exactly
 * level·absmax in float32, double-quantized absmax values are within half a step of the dynamic map of
 * their true value, row reads at any offset equal the flat read, and the blockwise dot stays within F32
 * rounding of the double dot of the dequantized row.
 */
class Nf4OracleTest {
    @Test
    void quantizeDequantizeAndDotMatchTheOracle() {
        Random r = new Random(13);
        int[][] shapes = {{1, 64}, {3, 35}, {7, 172}, {172, 64}, {5, 129}, {1, 3}, {9, 257}};
        int[] blockSizes = {64, 32, 128};
        for (int[] sh : shapes) {
            for (int bs : blockSizes) {
                int rows = sh[0], cols = sh[1], n = rows * cols;
                float scale = (float) Math.pow(10, r.nextInt(5) - 2);
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * scale * (r.nextInt(30) == 0 ? 20 : 1);
                for (boolean dq : new boolean[] {false, true}) {
                    Nf4Tensor t = Nf4Tensor.quantize(x, rows, cols, bs, dq);
                    String what = rows + "×" + cols + " block " + bs + (dq ? " double" : "");
                    float[] y = t.dequantizeAll();
                    for (int i = 0; i < n; i++) {
                        int b = i / bs;
                        double am = 0;
                        for (int j = b * bs; j < Math.min(n, (b + 1) * bs); j++) am = Math.max(am, Math.abs((double) x[j]));
                        assertEquals(nearest(x[i] / Math.max(am, 1e-38)), t.code(i), what + " code " + i);
                        assertEquals(NormalFloat4.level(t.code(i)) * t.scales().absmax(b), y[i], what + " value " + i);
                        if (!dq) assertEquals((float) am, t.scales().absmax(b), what + " absmax " + b);
                    }
                    float[] row = new float[cols];
                    float[] xs = new float[cols + 3];
                    for (int k = 0; k < xs.length; k++) xs[k] = (float) r.nextGaussian();
                    for (int rr = 0; rr < rows; rr++) {
                        int from = r.nextInt(cols), len = r.nextInt(cols - from + 1);
                        t.dequantizeRow(rr, from, len, row, 0);
                        for (int k = 0; k < len; k++) assertEquals(y[rr * cols + from + k], row[k], what + " row " + rr);
                        double ref = 0, mag = 0;
                        for (int k = 0; k < cols; k++) {
                            ref += (double) y[rr * cols + k] * xs[3 + k];
                            mag += Math.abs((double) y[rr * cols + k] * xs[3 + k]);
                        }
                        assertEquals(ref, t.dot(rr, xs, 3), mag * 1e-5 + 1e-30, what + " dot " + rr);
                    }
                }
            }
        }
    }

    @Test
    void doubleQuantizedAbsmaxIsTheNearestDynamicCode() {
        Random r = new Random(7);
        float[] absmax = new float[1000];                    // 3 whole nested blocks and a short one
        for (int i = 0; i < absmax.length; i++) absmax[i] = (float) Math.abs(r.nextGaussian()) * 0.05f + 1e-4f;
        Nf4Scales s = Nf4Scales.doubleQuantize(absmax);
        float[] code = DynamicMap.code();
        float[] nested = s.nestedAbsmax();
        byte[] q = s.quantizedAbsmax();
        assertEquals(4, nested.length);
        for (int i = 0; i < absmax.length; i++) {
            double scaled = (absmax[i] - (double) s.offset()) / nested[i / 256];
            int best = 0;
            for (int k = 1; k < 256; k++) if (Math.abs(code[k] - scaled) < Math.abs(code[best] - scaled)) best = k;
            double got = code[q[i] & 0xFF];
            assertTrue(Math.abs(got - scaled) <= Math.abs(code[best] - scaled) + 1e-6, "absmax " + i + ": code " + (q[i] & 0xFF) + " vs nearest " + best);
            assertEquals(code[q[i] & 0xFF] * nested[i / 256] + s.offset(), s.absmax(i));
        }
    }

    /** The index of the level nearest to v (ties to the lower), in double precision. */
    private static int nearest(double v) {
        v = Math.max(-1, Math.min(1, v));
        int best = 0;
        for (int k = 1; k < 16; k++) {
            if (Math.abs(NormalFloat4.level(k) - v) < Math.abs(NormalFloat4.level(best) - v)) best = k;
        }
        return best;
    }
}
