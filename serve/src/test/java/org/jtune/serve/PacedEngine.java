package org.jtune.serve;

import java.util.concurrent.CountDownLatch;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.EngineRejection;
import org.jtune.serve.engine.FinishReason;
import org.jtune.serve.engine.GeneratedToken;
import org.jtune.serve.engine.GenerationRequest;
import org.jtune.serve.engine.Submission;
import org.jtune.serve.engine.TokenSink;

/**
 * A real engine slowed down for tests: each token waits {@code pauseMillis} on the engine thread
 * (so a sequence is still running when a client goes away), and, while the gate is closed, the
 * first token of every request waits for it to open (so requests pile up in the queue).
 */
final class PacedEngine extends ForwardingEngine {
    private final long pauseMillis;
    private volatile CountDownLatch gate = new CountDownLatch(0);

    PacedEngine(Engine inner, long pauseMillis) {
        super(inner);
        this.pauseMillis = pauseMillis;
    }

    void closeGate() {
        gate = new CountDownLatch(1);
    }

    void openGate() {
        gate.countDown();
    }

    @Override
    public Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection {
        return inner.submit(request, new TokenSink() {
            @Override
            public void onToken(GeneratedToken token) {
                try {
                    gate.await();
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sink.onToken(token);
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens, String error) {
                sink.onFinish(reason, promptTokens, completionTokens, error);
            }
        });
    }

    @Override
    public void close() {
        openGate();
        inner.close();
    }
}
