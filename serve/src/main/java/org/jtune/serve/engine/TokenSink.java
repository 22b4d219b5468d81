package org.jtune.serve.engine;

/**
 * Receives a request's tokens as they are generated, then exactly one {@link #onFinish}. Both are
 * called on the engine's thread (or, for a request cancelled while it waited, on the cancelling
 * thread): implementations hand the event over (a queue) and return at once, never block, never
 * detokenize.
 */
public interface TokenSink {
    void onToken(GeneratedToken token);

    /**
     * With {@link GenerationRequest#promptLogprobs}: prompt token {@code position} (1 .. prompt length − 1) with its
     * log-probability and alternatives, once each, in order, before the first generated token.
     */
    default void onPromptToken(int position, GeneratedToken token) {}

    /**
     * The request is over; nothing more follows.
     *
     * @param promptTokens     prompt length the engine processed
     * @param completionTokens tokens reported through {@link #onToken}
     * @param error            the reason when {@code reason} is {@link FinishReason#ERROR}, else null
     */
    void onFinish(FinishReason reason, int promptTokens, int completionTokens, String error);
}
