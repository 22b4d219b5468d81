package org.jtune.autograd;

/**
 * A scope in which no op records a graph node and no tensor is saved for a backward pass
 * (inference, optimizer updates, evaluation). Per thread and nestable:
 * {@code try (var g = NoGrad.enter()) { ... }}. Results computed inside do not require grad.
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final int restore;
    private boolean closed;

    private NoGrad(int restore) {
        this.restore = restore;
    }

    /** Enters a no-grad scope on this thread; close it to leave. */
    public static NoGrad enter() {
        int[] d = DEPTH.get();
        NoGrad scope = new NoGrad(d[0]);
        d[0]++;
        return scope;
    }

    /** True inside a no-grad scope on this thread. */
    public static boolean active() {
        return DEPTH.get()[0] > 0;
    }

    /** Re-enables recording until closed, even inside a no-grad scope (used by checkpoint recomputation). */
    static NoGrad suspend() {
        int[] d = DEPTH.get();
        NoGrad scope = new NoGrad(d[0]);
        d[0] = 0;
        return scope;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        DEPTH.get()[0] = restore;
    }
}
