package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtune.tensor.Parallel;
import org.junit.jupiter.api.Test;

/**
 * The decode GEMV's split across threads, checked on the split itself (no timing, so it holds on a
 * loaded machine): every decode-sized product of a 1B-class model (K and N of 2048, 5632, 32000, one
 * to four rows) is cut into whole column groups, one balanced range per thread, so each thread streams
 * its share of the weight once. A split that leaves a thread idle, cuts inside a group, or hands one
 * thread much more than another is what turned a memory-bound GEMV into a slow one; this test names it.
 */
class GemvSplitTest {
    @Test
    void decodeProductsUseEveryThreadInBalancedWholeGroups() {
        int[] sizes = {256, 2048, 5632, 32000};
        for (int k : sizes) {
            for (int n : sizes) {
                for (int m = 1; m <= Gemv.MAX_ROWS; m++) {
                    for (int threads = 1; threads <= 8; threads++) {
                        check(m, k, n, threads);
                    }
                }
            }
        }
    }

    private static void check(int m, int k, int n, int threads) {
        String what = m + "x" + k + "x" + n + " at " + threads + " threads";
        int groups = (n + Gemv.GROUP - 1) / Gemv.GROUP;
        int grain = Gemm.gemvGrainGroups(m, k);
        int chunks = Parallel.chunks(groups, grain, threads);
        long macs = (long) m * k * n;
        long perThreadFloor = 1L << 20; // multiply-adds that pay for waking a thread
        assertTrue(chunks >= 1 && chunks <= threads, what + ": " + chunks + " ranges");
        if (macs >= (long) threads * 4 * perThreadFloor) assertEquals(threads, chunks, what + ": a thread left idle");
        int min = Integer.MAX_VALUE, max = 0, covered = 0;
        for (int c = 0; c < chunks; c++) {
            int g0 = Parallel.start(groups, c, chunks), g1 = Parallel.start(groups, c + 1, chunks);
            assertEquals(covered, g0, what + ": ranges not contiguous");
            covered = g1;
            min = Math.min(min, g1 - g0);
            max = Math.max(max, g1 - g0);
        }
        assertEquals(groups, covered, what + ": columns left out");
        assertTrue(max - min <= 1, what + ": unbalanced ranges " + min + ".." + max + " groups");
        if (chunks > 1) assertTrue(min * (long) Gemv.GROUP * m * k >= perThreadFloor / 2, what + ": a range too small to pay for its thread");
    }
}
