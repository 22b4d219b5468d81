package org.jtune.serve.engine;

import org.jtune.JtuneException;

/** The engine would not take a request; {@link #reason()} tells the HTTP layer which status to answer. */
public final class EngineRejection extends JtuneException {
    public enum Reason {
        /** the waiting queue is at its limit (HTTP 429) */
        QUEUE_FULL,
        /** the engine is draining for shutdown or closed (HTTP 503) */
        SHUTTING_DOWN,
        /** no base model or adapter of that name (HTTP 404) */
        UNKNOWN_MODEL,
        /** prompt plus max new tokens do not fit the model's context (HTTP 400) */
        TOO_LONG
    }

    private final Reason reason;

    public EngineRejection(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
