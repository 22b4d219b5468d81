package org.jtune.serve.engine;

/** A request accepted by an {@link Engine}; the handle through which the caller cancels it. */
public interface Submission {
    String id();

    /**
     * Asks the engine to stop this request and free what it holds (KV cache) at its next step; the
     * sink then gets {@code onFinish(CANCELLED, ...)} unless the request had already finished.
     * Safe to call from any thread, any number of times.
     */
    void cancel();
}
