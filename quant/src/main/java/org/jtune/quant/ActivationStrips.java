package org.jtune.quant;

import java.lang.foreign.MemorySegment;
import org.jtune.tensor.Q8Rows;

/**
 * Activation codes as floats for the float panels of the 256-bit kernels ({@link Q4_0x32Lanes8}, {@link Q4_Kx32Lanes8}):
 * rows in strips of {@value #ROWS}, strip s (rows 6s .. 6s + 5) depth-major at a[6·cols·s + 6k + r], so that a tile's six
 * broadcasts per column read adjacent floats. The codes are integers of at most 127 in magnitude, exact as floats.
 */
final class ActivationStrips {
    /** Activation rows per strip, and per tile of the panels. */
    static final int ROWS = 6;

    /**
     * A call's activation rows [0, tiled) in strips (a, and the same floats as a heap segment for the kernels that read
     * them through one), kept per thread with the rows they were made from.
     */
    record Strips(Q8Rows of, int tiled, float[] a, MemorySegment segment) {}
    /** No rows in strips: what a call of fewer rows than a panel takes gets, without touching the cache. */
    private static final Strips NONE = new Strips(null, 0, new float[0], MemorySegment.ofArray(new float[0]));

    private ActivationStrips() {}

    /** A kernel's per-thread cache of its last call's {@link Strips}. */
    static ThreadLocal<Strips> cache() {
        return ThreadLocal.withInitial(() -> NONE);
    }

    /**
     * The strips of x from cache, made (and kept) if x is not this thread's last call's rows: rows [0, tiled), whole
     * strips, from minRows rows on. Below minRows (every decode step) none, and the cache is left as it is: no lookup,
     * no allocation, and no reference kept to the rows.
     */
    static Strips of(ThreadLocal<Strips> cache, Q8Rows x, int minRows) {
        if (x.rows() < minRows) return NONE;
        Strips last = cache.get();
        if (last.of() == x) return last;
        int tiled = x.rows() - x.rows() % ROWS;
        float[] a = of(x, tiled, last.a());
        Strips made = new Strips(x, tiled, a, a == last.a() ? last.segment() : MemorySegment.ofArray(a));
        cache.set(made);
        return made;
    }

    /** Rows [0, tiled) of x (whole strips) in strips, into reuse when it is large enough, else into a new array. */
    static float[] of(Q8Rows x, int tiled, float[] reuse) {
        int cols = x.cols();
        short[] c = x.codes();
        float[] a = reuse.length >= tiled * cols ? reuse : new float[tiled * cols];
        for (int s = 0; s < tiled; s += ROWS) {
            for (int r = 0; r < ROWS; r++) {
                for (int k = 0; k < cols; k++) a[s * cols + ROWS * k + r] = c[(s + r) * cols + k];
            }
        }
        return a;
    }
}
