package org.jtune.tensor;

import java.util.function.Supplier;

/**
 * The hook through which a pool can serve the allocations of a scope (a training step) from buffers
 * it reuses, instead of each op getting fresh memory. Every tensor an op allocates goes through
 * {@link Backend#allocate}, which first offers the request to the pool bound to the calling thread
 * by {@link #during}; the pool returns storage of the backend's device (zeroed unless the request is
 * for an output its op overwrites whole, {@link Backend#allocateOutput}), or null to let the backend
 * allocate as usual. A pool takes its buffers back when its scope ends (that is its own
 * business), so what must outlive the scope — a parameter's gradient buffer, optimizer state — is
 * allocated {@link #outside} it.
 */
public interface BufferPool {
    /** Storage for {@code numel} elements of {@code dtype} on {@code backend}'s device (zeroed when {@code zeroed}), or null. */
    Storage take(Backend backend, DType dtype, long numel, boolean zeroed);

    ScopedValue<BufferPool> CURRENT = ScopedValue.newInstance();

    /** Runs {@code body} with the allocations made on this thread offered to {@code pool} first. */
    static <T> T during(BufferPool pool, Supplier<T> body) {
        return ScopedValue.where(CURRENT, pool).call(body::get);
    }

    /** Runs {@code body} with no pool: its allocations are the backend's own and may outlive any pool scope. */
    static <T> T outside(Supplier<T> body) {
        return CURRENT.isBound() ? ScopedValue.where(CURRENT, null).call(body::get) : body.get();
    }

    /** True while a pool is bound to the calling thread (memory handed out now may be taken back when its scope ends). */
    static boolean active() {
        return CURRENT.isBound() && CURRENT.get() != null;
    }

    /**
     * Takes back, before the scope ends, every buffer lent so far in it except {@code keep}'s: for a caller that knows
     * nothing else it was lent is still in use (an inference step between two layers, whose only live tensor is the
     * hidden state). Pools that cannot do so ignore it.
     */
    default void takeBackAllBut(Storage keep) {}

    /** {@link #takeBackAllBut} on the pool bound to the calling thread, if any, keeping {@code keep}'s storage. */
    static void keepOnly(Tensor keep) {
        BufferPool pool = CURRENT.isBound() ? CURRENT.get() : null;
        if (pool != null) pool.takeBackAllBut(keep.storage());
    }

    /** The pool's storage for this request, or null when no pool is bound or it declines. */
    static Storage offer(Backend backend, DType dtype, long numel, boolean zeroed) {
        BufferPool pool = CURRENT.isBound() ? CURRENT.get() : null;
        return pool == null ? null : pool.take(backend, dtype, numel, zeroed);
    }
}
