package org.jtune.serve.engine;

import java.time.Duration;
import java.util.List;

/**
 * What the HTTP layer needs from a generation engine, and nothing more: submit a request of token
 * ids, receive its tokens through a {@link TokenSink}, cancel it, drain on shutdown, and report
 * gauges. An engine owns its thread(s): it takes waiting requests between its steps (the place a
 * continuous-batching scheduler asks for work), runs the model, and calls the sinks. Callers never
 * touch the model. {@link #submit} and {@link Submission#cancel} are safe from any thread.
 */
public interface Engine extends AutoCloseable {
    /** The served names: the base model first, then every adapter. */
    List<String> modelNames();

    /** The model's context: prompt plus generated tokens must fit in it. */
    int contextLength();

    /**
     * Queues a request. Its tokens and its end go to {@code sink}.
     *
     * @throws EngineRejection when the queue is full, the engine is draining, the model name is unknown,
     *                         or the request does not fit the context
     */
    Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection;

    /**
     * Stops taking requests (submit answers SHUTTING_DOWN) and waits until every accepted request has
     * finished, at most {@code timeout}. Returns whether all finished.
     */
    boolean drain(Duration timeout) throws InterruptedException;

    EngineGauges gauges();

    /** Cancels whatever is left, stops the engine's thread and releases the models. */
    @Override
    void close();
}
