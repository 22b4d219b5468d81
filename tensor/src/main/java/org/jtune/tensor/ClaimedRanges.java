package org.jtune.tensor;

import java.lang.invoke.VarHandle;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Work over [0, n) cut into a fixed number of contiguous pieces that the threads claim one at a time
 * from a shared counter (dynamic scheduling, the "guided/dynamic" schedule of OpenMP): a thread that is
 * descheduled, woken late or slowed by another process holds back at most the one piece it is running,
 * and the calling thread starts at once instead of waiting for the pool to wake. Piece boundaries depend
 * on n and the piece count only, never on which thread runs a piece.
 *
 * <p>Allocation-free per call: each calling thread keeps one instance (a thread-local) with reusable
 * helper tasks. The claim counter carries a generation in its high 32 bits and the next piece in its low
 * 32 bits, so a helper that wakes after its call has ended can only claim pieces of the call that is
 * current when its compare-and-set succeeds (it then helps that call); while the caller writes a new
 * call's fields the counter is closed (no piece claimable), so a claim never pairs one call's counter with
 * another call's fields. The caller returns once every piece has run, without waiting for helpers that
 * never claimed one.
 */
final class ClaimedRanges {
    private static final ThreadLocal<ClaimedRanges> PER_CALLER = ThreadLocal.withInitial(ClaimedRanges::new);
    /** Spins on the last running pieces before yielding the core to them. */
    private static final int SPINS_BEFORE_YIELD = 1 << 10;
    /** The claim counter's piece while a call's fields are written: beyond any piece count, so nothing is claimed. */
    private static final int CLOSED = Integer.MAX_VALUE;
    /**
     * How long a helper that found no piece left waits, spinning, for its caller's next call before it returns its pool
     * thread (system property {@code jtune.parallel.lingerMicros}, default 200; 0 returns at once). A decode step makes ~200
     * parallel calls a few microseconds apart; a pool thread that parks between them is woken through the OS for each
     * (tens of microseconds, during which the caller runs the pieces alone), so a helper that lingers keeps the second
     * core in the product, as llama.cpp's spinning thread pool does. The wait is bounded: an idle process stops spinning
     * that long after its last call. Every parallel call goes through here ({@link Parallel#forRange} too), so a
     * lingering helper never holds a core that another pool task waits for: while forRange still submitted its own pool
     * tasks, lingering cost a 1.1B Q4_0 prefill 7 % (1273 → 1363 ms) for 4 % off its decode step. With forRange claimed,
     * alternating in one process (2026-12-06, 8 rounds each, 2 threads): Q4_0 step 28.4 → 26.2 ms, prefill 1291 → 1272 ms;
     * Q4_K_M 33.3 → 32.1 ms, 1975 → 1944 ms; BF16 87.2 → 85.5 ms, 1548 → 1547 ms; F32 94.0 → 95.3 ms. A server's engine
     * sets it to 0 (its request threads need the cores; see serve's BatchingEngine).
     */
    static volatile long lingerNanos = 1000L * Long.getLong("jtune.parallel.lingerMicros", 200L);

    private final AtomicLong claims = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private Helper[] helpers = new Helper[0];
    /** Per helper slot, the task that takes over from a leaving helper (swapped with it), so that warm calls allocate nothing. */
    private Helper[] spares = new Helper[0];
    // Written by the caller before the generation is published (a volatile write of claims), read by
    // helpers after they read claims: the counter orders them.
    private Parallel.RangeBody body;
    private int n, pieces;
    private volatile Throwable failure;
    /** Set by the calling thread while one of its calls runs (read by that thread only). */
    private boolean active;

    private ClaimedRanges() {}

    /** A reusable pool task that claims pieces of its caller's current call until none is left. */
    private static final class Helper extends ForkJoinTask<Void> {
        private final ClaimedRanges owner;
        /** Read and written by the calling thread only: a fresh task is not done but was never queued. */
        private boolean submitted;
        /**
         * Set by the helper once it has decided to return, before its last look at the claim counter; read by a caller that
         * finds the task not done after opening a call. One of the two always sees the other (both volatile): the helper
         * sees the call and helps, or the caller sees it leaving and starts another helper.
         */
        private volatile boolean leaving;

        Helper(ClaimedRanges owner) {
            this.owner = owner;
        }

        @Override
        public Void getRawResult() {
            return null;
        }

        @Override
        protected void setRawResult(Void value) {}

        @Override
        protected boolean exec() {
            // The generation helped, read before claiming: read after, it could be a call that opened while this one's
            // last piece ran, never helped (its pieces then waited for the caller alone; a test's stalled first piece
            // waited 5 s in CI). A closed counter is a call not yet open, so the one before it.
            long c0 = owner.claims.get(), seen = (int) c0 == CLOSED ? (c0 >>> 32) - 1 : c0 >>> 32;
            owner.claimAndRun();
            long linger = lingerNanos;
            for (long since = System.nanoTime(); ; ) {
                long c = owner.claims.get();
                if (c >>> 32 != seen && (int) c != CLOSED) {         // the caller's next call, open: help it too
                    owner.claimAndRun();
                    seen = c >>> 32;
                    since = System.nanoTime();
                } else if (System.nanoTime() - since < linger) {
                    Thread.onSpinWait();
                } else {
                    leaving = true;
                    c = owner.claims.get();
                    if (c >>> 32 == seen || (int) c == CLOSED) return true;
                    leaving = false;                                  // a call opened meanwhile: help it first
                }
            }
        }
    }

    static void run(ForkJoinPool pool, int n, int pieces, int threads, Parallel.RangeBody body) {
        ClaimedRanges c = PER_CALLER.get();
        if (c.active) { // a body that itself splits work: its pieces run in order here (this caller's state is in use)
            for (int p = 0; p < pieces; p++) body.run(Parallel.start(n, p, pieces), Parallel.start(n, p + 1, pieces));
            return;
        }
        c.active = true;
        try {
            c.call(pool, n, pieces, threads, body);
        } finally {
            c.active = false;
        }
    }

    private void call(ForkJoinPool pool, int n, int pieces, int threads, Parallel.RangeBody body) {
        // Closed first: a helper still looping in claimAndRun over the last call (its counter exhausted) could otherwise
        // read this call's larger piece count and claim a piece of the old counter with this call's body.
        long generation = (claims.get() >>> 32) + 1;
        claims.set(generation << 32 | CLOSED);
        VarHandle.fullFence(); // the writes below are not seen before the close
        this.body = body;
        this.n = n;
        this.pieces = pieces;
        failure = null;
        done.set(0);
        claims.set(generation << 32); // opens: publishes the fields above to helpers that read claims
        int wanted = Math.min(threads, pieces) - 1;
        if (helpers.length < wanted) {
            Helper[] grown = java.util.Arrays.copyOf(helpers, wanted), grownSpares = java.util.Arrays.copyOf(spares, wanted);
            for (int i = helpers.length; i < wanted; i++) {
                grown[i] = new Helper(this);
                grownSpares[i] = new Helper(this);
            }
            helpers = grown;
            spares = grownSpares;
        }
        for (int i = 0; i < wanted; i++) {
            Helper h = helpers[i];
            // A helper still queued or running from an earlier call helps this one instead, unless it is leaving: it may
            // have looked at the counter before this call opened, so another takes its place (Helper.leaving).
            if (h.submitted && !h.isDone() && h.leaving) {
                Helper spare = spares[i];
                if (spare.submitted && !spare.isDone()) spare = new Helper(this); // the last one replaced has not returned yet either
                spares[i] = h;
                h = helpers[i] = spare;
            }
            if (!h.submitted || h.isDone()) {
                if (h.submitted) h.reinitialize();
                h.leaving = false;
                h.submitted = true;
                pool.execute(h);
            }
        }
        claimAndRun();
        for (int spins = 0; done.get() < pieces; spins++) {
            if (spins < SPINS_BEFORE_YIELD) Thread.onSpinWait();
            else Thread.yield();
        }
        this.body = null;
        Throwable f = failure;
        if (f instanceof RuntimeException r) throw r;
        if (f instanceof Error e) throw e;
        if (f != null) throw new RuntimeException(f);
    }

    /** Claims pieces of the current generation until none is left; a failed piece stops the others from running. */
    private void claimAndRun() {
        while (true) {
            long c = claims.get();
            int piece = (int) c;
            Parallel.RangeBody b = body;
            int total = pieces, size = n;
            if (piece >= total || b == null) return;
            if (!claims.compareAndSet(c, c + 1)) continue;
            // The claim succeeded in this generation, so b, total and size were this generation's.
            try {
                if (failure == null) b.run(Parallel.start(size, piece, total), Parallel.start(size, piece + 1, total));
            } catch (Throwable e) {
                if (failure == null) failure = e;
            } finally {
                done.incrementAndGet();
            }
        }
    }
}
