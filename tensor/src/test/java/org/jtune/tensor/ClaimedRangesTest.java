package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Parallel#forClaimed}: every piece runs exactly once with the boundaries of {@link Parallel#start},
 * for any piece and thread count and call after call (helper tasks are reused across calls, and may linger for
 * the next one); a piece
 * held up on one thread does not hold back the others (the point of claiming: with one fixed range per
 * thread the stalled thread's whole share would wait); a failure in a piece reaches the caller; and a
 * call allocates nothing once warm.
 */
class ClaimedRangesTest {
    private final int savedThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(savedThreads);
        Parallel.setClaiming(true);
        Parallel.setLingerMicros(0);
    }

    @Test
    void everyPieceRunsOnceWithItsBoundaries() {
        for (long linger : new long[] {0, 200, 100_000}) {   // helpers that park, linger briefly, or serve every call
        Parallel.setLingerMicros(linger);
        for (int threads = 1; threads <= 4; threads++) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 2, 7, 100, 1409}) {
                for (int pieces : new int[] {1, 2, 3, 16, 64, 5000}) {
                    for (int call = 0; call < 20; call++) {
                        int p = Math.min(pieces, n);
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        AtomicIntegerArray ranges = new AtomicIntegerArray(p);
                        Parallel.forClaimed(n, pieces, (from, to) -> {
                            int piece = -1;
                            for (int c = 0; c < p; c++) if (Parallel.start(n, c, p) == from) piece = c;
                            assertTrue(piece >= 0 && Parallel.start(n, piece + 1, p) == to, from + ".." + to);
                            ranges.incrementAndGet(piece);
                            for (int i = from; i < to; i++) seen.incrementAndGet(i);
                        });
                        String what = "n=" + n + " pieces=" + pieces + " threads=" + threads;
                        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), what + " item " + i);
                        for (int c = 0; c < p; c++) assertEquals(1, ranges.get(c), what + " piece " + c);
                    }
                }
            }
        }
        }
    }

    @Test
    void aStalledPieceDoesNotHoldBackTheOthers() throws Exception {
        Parallel.setThreads(2);
        int pieces = 16;
        for (int round = 0; round < 5; round++) {
            assertTrue(othersRunWhileTheFirstStalls(pieces, 20), "round " + round + ": the other pieces waited for the stalled one");
        }
    }

    /**
     * One call of {@code pieces} pieces whose piece 0 (the caller's first claim) stalls until every other piece has run
     * elsewhere, for at most {@code seconds}: whether they did.
     */
    private static boolean othersRunWhileTheFirstStalls(int pieces, long seconds) {
        CountDownLatch othersDone = new CountDownLatch(pieces - 1);
        boolean[] finishedWhileStalled = new boolean[1];
        Parallel.forClaimed(pieces, pieces, (from, to) -> {
            if (from == 0) {
                try {
                    finishedWhileStalled[0] = othersDone.await(seconds, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                othersDone.countDown();
            }
        });
        return finishedWhileStalled[0];
    }

    /**
     * Call after call, a helper that is just returning from the last one is never the only helper of the next: either it
     * sees the new call and helps, or the caller sees it leaving and starts another (a helper the caller skipped as still
     * running, which then returned without helping, left a stalled first piece waiting for the rest, once in a CI run).
     */
    @Test
    void aHelperLeavingAsACallOpensIsReplaced() throws Exception {
        Parallel.setThreads(2);
        for (long linger : new long[] {0, 1, 5}) {
            Parallel.setLingerMicros(linger);
            for (int round = 0; round < 3000; round++) {
                assertTrue(othersRunWhileTheFirstStalls(2, 5), "linger " + linger + " µs, round " + round + ": the second piece waited for the first");
            }
        }
    }

    @Test
    void aFailingPieceReachesTheCaller() {
        Parallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("boom");
        for (int failing : new int[] {0, 5, 15}) {
            IllegalStateException got = assertThrows(IllegalStateException.class, () -> Parallel.forClaimed(16, 16, (from, to) -> {
                if (from == failing) throw boom;
            }));
            assertSame(boom, got);
        }
        AtomicIntegerArray after = new AtomicIntegerArray(16);
        Parallel.forClaimed(16, 16, (from, to) -> after.incrementAndGet(from));
        for (int i = 0; i < 16; i++) assertEquals(1, after.get(i), "the call after a failure");
    }

    @Test
    void aWarmCallAllocatesNothingOnTheCallingThread() {
        Parallel.setThreads(2);
        long[] sink = new long[64];
        Parallel.RangeBody body = (from, to) -> {
            for (int i = from; i < to; i++) sink[i] += i;
        };
        for (int i = 0; i < 20_000; i++) Parallel.forClaimed(64, 64, body);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1000; i++) Parallel.forClaimed(64, 64, body);
        long bytes = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(bytes < 1000, "1000 calls allocated " + bytes + " bytes on the caller");
    }
}
