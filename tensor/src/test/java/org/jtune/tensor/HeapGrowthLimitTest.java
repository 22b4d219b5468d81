package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link HeapGrowthLimit}: once the heap in use after a young collection passes the floor, a full
 * collection is requested, after which the threshold follows the live data (ratio × what the full
 * collection left); and it does not request one per young collection (no collection storm).
 */
class HeapGrowthLimitTest {
    @Test
    void requestsAFullCollectionAboveTheFloorThenFollowsTheLiveData() throws Exception {
        List<float[]> live = new ArrayList<>();
        long sink = 0;
        try (HeapGrowthLimit limit = HeapGrowthLimit.install(1.5, 16L << 20)) {
            for (int i = 0; i < 16; i++) live.add(new float[1 << 20]); // 64 MiB live, above the 16 MiB floor
            int youngBefore = youngCollections();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (limit.forcedCollections() == 0 && System.nanoTime() < deadline) {
                for (int i = 0; i < 64; i++) sink += new float[1 << 18].length; // 1 MiB of garbage each
                Thread.sleep(1); // notifications arrive on a service thread
            }
            assertTrue(limit.forcedCollections() >= 1, "no full collection requested with 64 MiB live over a 16 MiB floor");
            long settle = System.nanoTime() + 10_000_000_000L; // the full collection's own notification updates the live figure
            while (limit.threshold() < (long) (1.5 * (64L << 20)) && System.nanoTime() < settle) Thread.sleep(10);
            assertTrue(limit.threshold() >= (long) (1.5 * (64L << 20)), "threshold " + limit.threshold() + " below 1.5 × the live 64 MiB");
            int forcedBefore = limit.forcedCollections();
            for (int i = 0; i < 2000; i++) sink += new float[1 << 16].length; // 512 MiB of short-lived garbage
            Thread.sleep(200);
            int young = youngCollections() - youngBefore;
            assertTrue(limit.forcedCollections() - forcedBefore <= Math.max(2, young / 2),
                    (limit.forcedCollections() - forcedBefore) + " full collections requested for " + young + " young ones");
        }
        assertTrue(sink > 0 && live.size() == 16);
    }

    @Test
    void refusesARatioThatCannotBound() {
        assertThrows(IllegalArgumentException.class, () -> HeapGrowthLimit.install(1.0, 0));
    }

    private static int youngCollections() {
        long n = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!gc.getName().contains("MarkSweep") && !gc.getName().contains("Old")) n += gc.getCollectionCount();
        }
        return (int) n;
    }
}
