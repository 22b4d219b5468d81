package org.jtune.serve.http;

import java.util.concurrent.LinkedBlockingQueue;
import org.jtune.serve.engine.FinishReason;
import org.jtune.serve.engine.GeneratedToken;
import org.jtune.serve.engine.TokenSink;

/**
 * The hand-over from the engine thread to a request's thread: the engine's calls only enqueue; the
 * request thread takes events in order and does the detokenizing, JSON and writing. A request for n choices
 * has n sequences; each reports through its own {@link #sink}, and every event names its choice.
 */
final class TokenQueue {
    /** An event of one choice: a token, or its end. */
    sealed interface Event permits Token, PromptToken, Finished {
        int choice();
    }

    record Token(int choice, GeneratedToken token) implements Event {}

    /** A prompt token with its log-probability (echo), at its position in the prompt. */
    record PromptToken(int choice, int position, GeneratedToken token) implements Event {}

    record Finished(int choice, FinishReason reason, int promptTokens, int completionTokens, String error) implements Event {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    /** Where the sequence of choice {@code index} reports. */
    TokenSink sink(int index) {
        return new TokenSink() {
            @Override
            public void onToken(GeneratedToken token) {
                events.add(new Token(index, token));
            }

            @Override
            public void onPromptToken(int position, GeneratedToken token) {
                events.add(new PromptToken(index, position, token));
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String error) {
                events.add(new Finished(index, reason, promptTokens, completionTokens, error));
            }
        };
    }

    Event take() throws InterruptedException {
        return events.take();
    }

    /** The next event, or null when none came within {@code millis}. */
    Event poll(long millis) throws InterruptedException {
        return events.poll(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
