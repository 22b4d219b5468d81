package org.jtune.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtune.tensor.Parallel;
import org.junit.jupiter.api.Test;

/**
 * The decode GEMV's split across threads, checked on the split itself (no timing, so it holds on a
 * loaded machine): every decode-sized product of a 1B-class model (K and N of 256, 2048, 5632, 32000,
 * one to {@link Gemv#MAX_ROWS} rows) is cut into contiguous pieces of whole column groups, balanced,
 * independent of the thread count, and large products into enough pieces (≥ 4 per thread at 2 threads)
 * that the threads claim them as they go: a thread that is descheduled or slow then holds back one
 * small piece, not its whole share. One range per thread gave p50 0.75 ms but p90 1.6 ms and a max of
 * 5-10 ms for a 46 MB weight at 2 threads, whose 1-thread p50 was 1.37 ms. A piece stays large enough
 * (≥ 64K multiply-adds) that claiming it costs nothing beside streaming it.
 */
class GemvSplitTest {
    @Test
    void decodeProductsAreCutIntoBalancedPiecesOfWholeGroups() {
        int[] sizes = {256, 2048, 5632, 32000};
        for (int k : sizes) {
            for (int n : sizes) {
                for (int m = 1; m <= Gemv.MAX_ROWS; m++) {
                    check(m, k, n);
                }
            }
        }
    }

    private static void check(int m, int k, int n) {
        String what = m + "x" + k + "x" + n;
        int groups = (n + Gemv.GROUP - 1) / Gemv.GROUP;
        int pieces = Gemm.gemvPieces(m, k, n);
        long macs = (long) m * k * n;
        assertTrue(pieces >= 1 && pieces <= groups && pieces <= Gemm.GEMV_MAX_PIECES, what + ": " + pieces + " pieces");
        if (macs >= 8 * (4L << 20)) assertTrue(pieces >= 8, what + ": only " + pieces + " pieces for 2 threads to claim");
        int min = Integer.MAX_VALUE, max = 0, covered = 0;
        for (int c = 0; c < pieces; c++) {
            int g0 = Parallel.start(groups, c, pieces), g1 = Parallel.start(groups, c + 1, pieces);
            assertEquals(covered, g0, what + ": pieces not contiguous");
            covered = g1;
            min = Math.min(min, g1 - g0);
            max = Math.max(max, g1 - g0);
        }
        assertEquals(groups, covered, what + ": columns left out");
        assertTrue(max - min <= 1, what + ": unbalanced pieces " + min + ".." + max + " groups");
        if (pieces > 1) assertTrue(min * (long) Gemv.GROUP * m * k >= 1L << 16, what + ": a piece too small to pay for its claim");
    }
}
