package org.jtune.serve.engine;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An {@link Engine} whose model can be replaced while it serves (a registry promotion or rollback),
 * without dropping a request: {@link #switchTo} makes new requests go to the new engine at once,
 * while the old one finishes what it had accepted (drains) on a thread of its own and is closed after.
 * A request that reaches the old engine in the instant of the switch (it refuses it as shutting down)
 * is handed to the new one. Each engine carries a label (the registry's {@code name:version}) that its
 * submissions report, so the request log names the version that answered.
 *
 * <p>Gauges add up every engine still running: queue, running sequences and KV blocks of the draining
 * ones too, and counters that keep counting across switches.
 */
public final class SwitchingEngine implements Engine {
    private record Labelled(Engine engine, String label, java.util.concurrent.atomic.AtomicBoolean closed) {
        Labelled(Engine engine, String label) {
            this(engine, label, new java.util.concurrent.atomic.AtomicBoolean());
        }

        void close() {
            if (closed.compareAndSet(false, true)) engine.close();
        }
    }

    private final Duration drainTimeout;
    private final List<Labelled> retiring = new CopyOnWriteArrayList<>();
    private long retiredTokens, retiredFinished, retiredCancelled; // counters of closed engines (guarded by this)
    private volatile Labelled current;
    private volatile boolean closed;
    private volatile AutoCloseable source;

    /**
     * @param drainTimeout how long an engine switched away from may take to finish its requests before
     *                     what is left of them is cancelled
     */
    public SwitchingEngine(Engine first, String label, Duration drainTimeout) {
        this.current = new Labelled(first, label);
        this.drainTimeout = drainTimeout;
    }

    /**
     * Sends new requests to {@code next} from now on; the engine it replaces drains in the background
     * and is then closed. Returns at once.
     */
    public synchronized void switchTo(Engine next, String label) {
        if (closed) {
            next.close();
            throw new IllegalStateException("the engine is closed");
        }
        Labelled old = current;
        current = new Labelled(next, label);
        retiring.add(old);
        Thread.ofPlatform().name("jtune-drain-" + old.label()).daemon(true).start(() -> retire(old));
    }

    private void retire(Labelled old) {
        try {
            old.engine().drain(drainTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        old.close();
        EngineGauges last = old.engine().gauges(); // after close: the cancelled rest is counted too
        synchronized (this) { // its counters move into the retired totals in one piece: a scrape never sees them twice
            retiredTokens += last.generatedTokens();
            retiredFinished += last.finishedRequests();
            retiredCancelled += last.cancelledRequests();
            retiring.remove(old);
        }
    }

    /** Closes {@code source} (what decides the switches: a registry watcher) first when this engine closes. */
    public void closeWith(AutoCloseable source) {
        this.source = source;
    }

    /** Engines switched away from that are still finishing their requests. */
    public int draining() {
        return retiring.size();
    }

    @Override
    public String modelVersion() {
        return current.label();
    }

    @Override
    public List<String> modelNames() {
        return current.engine().modelNames();
    }

    @Override
    public int contextLength() {
        return current.engine().contextLength();
    }

    @Override
    public Submission submit(GenerationRequest request, TokenSink sink) throws EngineRejection {
        while (true) {
            Labelled c = current;
            try {
                Submission s = c.engine().submit(request, sink);
                return new Submission() {
                    @Override
                    public String id() {
                        return s.id();
                    }

                    @Override
                    public void cancel() {
                        s.cancel();
                    }

                    @Override
                    public String modelVersion() {
                        return c.label();
                    }
                };
            } catch (EngineRejection e) {
                // the engine was switched away from between reading it and submitting: the next one takes the request
                if (e.reason() != EngineRejection.Reason.SHUTTING_DOWN || closed || current == c) throw e;
            }
        }
    }

    @Override
    public boolean drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean all = current.engine().drain(timeout);
        for (Labelled r : retiring) all &= r.engine().drain(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        return all;
    }

    @Override
    public synchronized EngineGauges gauges() {
        Labelled c = current;
        EngineGauges g = c.engine().gauges();
        int waiting = g.waiting(), running = g.running();
        long kv = g.kvBlocksInUse(), tokens = g.generatedTokens() + retiredTokens, finished = g.finishedRequests() + retiredFinished;
        long cancelled = g.cancelledRequests() + retiredCancelled;
        double rate = g.tokensPerSecond();
        for (Labelled r : retiring) {
            if (r == c) continue;
            EngineGauges o = r.engine().gauges();
            waiting += o.waiting();
            running += o.running();
            kv += o.kvBlocksInUse();
            tokens += o.generatedTokens();
            finished += o.finishedRequests();
            cancelled += o.cancelledRequests();
            rate += o.tokensPerSecond();
        }
        return new EngineGauges(waiting, running, g.lastBatchSize(), kv, g.kvBlockTokens(), tokens, finished, cancelled, rate, g.kv());
    }

    @Override
    public void close() {
        AutoCloseable s = source;
        if (s != null) {
            try {
                s.close();
            } catch (Exception e) {
                System.err.println("jtune serve: closing " + s + ": " + e.getMessage());
            }
        }
        List<Labelled> all;
        synchronized (this) {
            closed = true;
            all = new java.util.ArrayList<>(retiring);
            all.add(current);
        }
        for (Labelled r : all) r.close(); // a draining one cancels what is left; its retire thread then ends
    }
}
