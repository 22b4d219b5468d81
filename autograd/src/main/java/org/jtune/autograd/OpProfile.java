package org.jtune.autograd;

import java.util.Map;
import java.util.TreeMap;

/**
 * A per-op wall-clock profile of forward and backward, for finding what dominates a training step;
 * off unless the system property {@code jtune.profile} is true (then each recorded op costs two
 * {@code System.nanoTime()} calls). Forward time of an op is the time since the previous op was
 * recorded on the calling thread (its kernel and the glue before it); backward time is its rule's
 * time, less the time of nested backward passes (checkpoint recomputation), plus "accumulate" for
 * gradients added into leaves. Single-threaded callers only (the kernels may use the pool inside).
 */
public final class OpProfile {
    static final boolean ENABLED = Boolean.getBoolean("jtune.profile");

    private static final Map<String, long[]> FORWARD = new TreeMap<>(), BACKWARD = new TreeMap<>();
    private static long lastMark = System.nanoTime();
    private static long nested;

    private OpProfile() {}

    /** Attributes the time since the previous mark to the forward of {@code op}. */
    static void forward(String op) {
        long now = System.nanoTime();
        add(FORWARD, op, now - lastMark);
        nested += now - lastMark;
        lastMark = now;
    }

    /**
     * For work that is not recorded as an op (inference's attention over a KV cache returns a constant): attributes the
     * time since the previous mark to {@code op}'s forward, which would otherwise go to the next recorded op.
     */
    public static void mark(String op) {
        if (ENABLED) forward(op);
    }

    static long start() {
        return System.nanoTime() - nested;
    }

    /** Attributes the time since {@code start} (less nested backward passes) to the backward of {@code op}. */
    static void backward(String op, long start) {
        long own = System.nanoTime() - nested - start;
        add(BACKWARD, op, own);
        nested += own;
        lastMark = System.nanoTime();
    }

    private static void add(Map<String, long[]> m, String op, long nanos) {
        long[] a = m.computeIfAbsent(op, k -> new long[2]);
        a[0] += nanos;
        a[1]++;
    }

    /** Starts a fresh profile (e.g. after warm-up). */
    public static synchronized void reset() {
        FORWARD.clear();
        BACKWARD.clear();
        nested = 0;
        lastMark = System.nanoTime();
    }

    public static boolean enabled() {
        return ENABLED;
    }

    /** A table of op, direction, total ms, calls, sorted by total time. */
    public static synchronized String report() {
        StringBuilder sb = new StringBuilder(String.format("%-24s %-8s %10s %7s%n", "op", "pass", "ms", "calls"));
        java.util.List<Object[]> rows = new java.util.ArrayList<>();
        FORWARD.forEach((k, v) -> rows.add(new Object[] {k, "forward", v}));
        BACKWARD.forEach((k, v) -> rows.add(new Object[] {k, "backward", v}));
        rows.sort((a, b) -> Long.compare(((long[]) b[2])[0], ((long[]) a[2])[0]));
        long total = 0;
        for (Object[] r : rows) {
            long[] v = (long[]) r[2];
            total += v[0];
            sb.append(String.format("%-24s %-8s %10.1f %7d%n", r[0], r[1], v[0] / 1e6, v[1]));
        }
        sb.append(String.format("%-24s %-8s %10.1f%n", "total", "", total / 1e6));
        return sb.toString();
    }
}
