package org.jtune.serve;

import java.time.Duration;
import java.util.List;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.EngineGauges;

/** An engine that hands everything to a real one; a test's engine overrides what it changes (submit, mostly). */
abstract class ForwardingEngine implements Engine {
    protected final Engine inner;

    ForwardingEngine(Engine inner) {
        this.inner = inner;
    }

    @Override
    public List<String> modelNames() {
        return inner.modelNames();
    }

    @Override
    public int contextLength() {
        return inner.contextLength();
    }

    @Override
    public boolean drain(Duration timeout) throws InterruptedException {
        return inner.drain(timeout);
    }

    @Override
    public EngineGauges gauges() {
        return inner.gauges();
    }

    @Override
    public void close() {
        inner.close();
    }
}
