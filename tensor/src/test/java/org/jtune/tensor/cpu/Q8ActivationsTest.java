package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.jtune.tensor.Q8Rows;
import org.junit.jupiter.api.Test;

/**
 * Activation codes for the integer products, per 32 values (ggml's block_q8_0) and per 256 (block_q8_K), against a
 * double-precision oracle of the rule: d = amax/127 over the block (in F32), code = x/d rounded to nearest, ties to
 * even, |code| ≤ 127, and each 32-block's and 8 codes' sums; at an offset, with zero blocks and with ties.
 */
class Q8ActivationsTest {
    @Test
    void codesScalesAndSumsFollowTheRule() {
        Random r = new Random(7);
        for (int block : new int[] {32, 256}) {
            int m = 3, cols = 2 * block, off = 5;
            float[] x = new float[off + m * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
            for (int j = 0; j < block; j++) x[off + cols + block + j] = 0f;            // a zero block: scale 0, codes 0
            x[off + 3] = 127f;
            x[off + 4] = 0.5f;                                                        // amax 127: d = 1, a tie at 0.5 → 0
            x[off + 5] = 1.5f;                                                        // and at 1.5 → 2
            Q8Rows q = Q8Activations.shorts(x, off, m, cols, block, true);
            assertEquals(block, q.block());
            assertEquals(0, Q8Activations.shorts(x, off, m, cols, block, false).pairedCodes().length);
            for (int i = 0; i < m; i++) {
                for (int b = 0; b < cols / block; b++) {
                    double amax = 0;
                    for (int j = 0; j < block; j++) amax = Math.max(amax, Math.abs(x[off + i * cols + b * block + j]));
                    float d = (float) amax / 127f;
                    assertEquals(d, q.scales()[i * cols / block + b], 0f);
                    for (int j = 0; j < block; j++) {
                        double v = d == 0f ? 0 : x[off + i * cols + b * block + j] * (double) (1f / d);
                        short c = q.codes()[i * cols + b * block + j];
                        assertEquals(Math.rint(v), c, 0, "row " + i + " block " + b + " value " + j);
                        assertTrue(Math.abs(c) <= 127);
                    }
                }
                for (int c = 0; c < cols / 32; c++) {
                    int sum = 0;
                    for (int j = 0; j < 32; j++) sum += q.codes()[i * cols + c * 32 + j];
                    assertEquals(sum, q.sums()[i * cols / 32 + c]);
                }
                for (int k = 0; k < cols; k++) {                              // byte j of a 32-block: weights j and j + 16
                    int at = i * cols + k, j = k % 32;
                    int want = j < 16 ? q.codes()[at] : q.codes()[at] - 16 * q.codes()[at - 16];
                    assertEquals(want, q.pairedCodes()[at], "paired code " + k + " of row " + i);
                }
                for (int e = 0; e < cols / 8; e++) {
                    int sum = 0;
                    for (int j = 0; j < 8; j++) sum += q.codes()[i * cols + 8 * e + j];
                    assertEquals(sum, q.sums8()[i * cols / 8 + e]);
                }
            }
            assertEquals(0, q.codes()[3 + 1]);
            assertEquals(2, q.codes()[3 + 2]);
        }
        assertThrows(IllegalArgumentException.class, () -> Q8Activations.shorts(new float[300], 0, 1, 288, 256, false));
    }
}
