package org.jtune.serve.engine;

/**
 * Events per second over the last {@code seconds} whole seconds (the current second excluded, so a
 * reading does not dip at the start of each second): a ring of per-second counts. Thread-safe.
 */
final class RateWindow {
    private final long[] counts;
    private final long[] secondOf;

    RateWindow(int seconds) {
        counts = new long[seconds + 1];
        secondOf = new long[seconds + 1];
    }

    synchronized void add(long n, long nanoTime) {
        long s = Math.floorDiv(nanoTime, 1_000_000_000L);
        int i = (int) Math.floorMod(s, (long) counts.length);
        if (secondOf[i] != s) {
            secondOf[i] = s;
            counts[i] = 0;
        }
        counts[i] += n;
    }

    synchronized double perSecond(long nanoTime) {
        long now = Math.floorDiv(nanoTime, 1_000_000_000L);
        long total = 0;
        int window = counts.length - 1;
        for (int i = 0; i < counts.length; i++) {
            long age = now - secondOf[i];
            if (age >= 1 && age <= window) total += counts[i];
        }
        return total / (double) window;
    }
}
