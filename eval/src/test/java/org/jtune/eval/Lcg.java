package org.jtune.eval;

/**
 * The 64-bit linear congruential generator that bench/peers/eval_reference.py also implements, so that
 * random test inputs are regenerated here and only the reference's expected numbers are literals.
 */
public final class Lcg {
    private long x;

    public Lcg(long seed) {
        this.x = seed;
    }

    public int next(int bound) {
        x = x * 6364136223846793005L + 1442695040888963407L;
        return (int) Long.remainderUnsigned(x >>> 33, bound);
    }
}
