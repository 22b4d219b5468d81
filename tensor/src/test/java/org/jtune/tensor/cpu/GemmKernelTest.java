package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both micro-kernel tiles on every machine (the GEMM runs one of them, chosen by the vector length): the 6-row tile
 * (AVX2's) gives bit for bit the first six rows of the 8-row tile (AVX-512's), which GemmTest checks against a double
 * reference; both sum each element in k order with one fused multiply-add per step, from zero or from C.
 */
class GemmKernelTest {
    @Test
    void theSixRowTileGivesTheEightRowTilesFirstSixRows() {
        Random r = new Random(7);
        int nr = GemmKernel.NR, ldc = nr + 5;
        for (int kc : new int[] {1, 2, 7, 64, 255}) {
            for (boolean load : new boolean[] {false, true}) {
                float[] a8 = new float[kc * 8], a6 = new float[kc * 6 + 3], b = new float[kc * nr];
                for (int k = 0; k < kc; k++) {
                    for (int i = 0; i < 8; i++) a8[k * 8 + i] = (float) r.nextGaussian();
                    for (int i = 0; i < 6; i++) a6[3 + k * 6 + i] = a8[k * 8 + i];
                }
                for (int j = 0; j < b.length; j++) b[j] = (float) r.nextGaussian();
                float[] c8 = new float[8 * ldc + 2], c6 = new float[8 * ldc + 2];
                for (int j = 0; j < c8.length; j++) c8[j] = c6[j] = (float) r.nextGaussian();
                float[] before = c6.clone();
                GemmKernel.tile8(kc, a8, 0, b, 0, c8, 2, ldc, load);
                GemmKernel.tile6(kc, MemorySegment.ofArray(a6).asSlice(3L * Float.BYTES, kc * 6L * Float.BYTES), b, 0, c6, 2, ldc, load);
                for (int at = 0; at < c6.length; at++) {
                    int i = (at - 2) / ldc, j = (at - 2) % ldc;
                    boolean written = at >= 2 && i < 6 && j < nr;
                    assertEquals(written ? c8[at] : before[at], c6[at], "kc=" + kc + " load=" + load + " at " + at);
                }
            }
        }
    }
}
