package org.jtune.serve.engine;

/** Why a sequence left the engine. */
public enum FinishReason {
    /** it produced one of its stop ids (the id is the last token reported) */
    STOP,
    /** it reached its max new tokens, or the model's context */
    LENGTH,
    /** the caller cancelled it: a client that went away, a stop string found by the caller, or shutdown */
    CANCELLED,
    /** the engine failed on it; the message says why */
    ERROR
}
