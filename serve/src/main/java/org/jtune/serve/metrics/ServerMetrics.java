package org.jtune.serve.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.EngineGauges;

/**
 * The server's metrics in a Micrometer registry, scraped as Prometheus text at /metrics:
 * <ul>
 * <li>jtune_http_requests_total{endpoint, status}: every answered request</li>
 * <li>jtune_time_to_first_token_seconds, jtune_inter_token_latency_seconds,
 *     jtune_request_latency_seconds{endpoint}: histograms (buckets for quantiles in PromQL)</li>
 * <li>jtune_engine_*: queue depth, running sequences, batch size, KV blocks in use, tokens/s, and counters of
 *     generated tokens and finished/cancelled requests, read from {@link Engine#gauges()} at scrape time</li>
 * </ul>
 */
public final class ServerMetrics {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer interToken;

    public ServerMetrics(Engine engine) {
        ttft = Timer.builder("jtune.time.to.first.token").description("Arrival of a completion request to its first generated token")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(120))
                .register(registry);
        interToken = Timer.builder("jtune.inter.token.latency").description("Time between consecutive tokens of one sequence")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        gauge("jtune.engine.queue.depth", "Requests waiting to start", engine, g -> g.waiting());
        gauge("jtune.engine.running.sequences", "Sequences holding KV cache", engine, g -> g.running());
        gauge("jtune.engine.batch.size", "Sequences advanced by the last engine step", engine, g -> g.lastBatchSize());
        gauge("jtune.engine.kv.blocks.in.use", "KV cache blocks held by running sequences", engine, g -> g.kvBlocksInUse());
        gauge("jtune.engine.kv.block.tokens", "Positions per KV cache block", engine, g -> g.kvBlockTokens());
        gauge("jtune.engine.tokens.per.second", "Generated tokens per second over the last 10 s", engine, g -> g.tokensPerSecond());
        FunctionCounter.builder("jtune.engine.generated.tokens", engine, e -> e.gauges().generatedTokens())
                .description("Tokens generated since start").register(registry);
        FunctionCounter.builder("jtune.engine.finished.requests", engine, e -> e.gauges().finishedRequests())
                .description("Requests finished by the engine since start").register(registry);
        FunctionCounter.builder("jtune.engine.cancelled.requests", engine, e -> e.gauges().cancelledRequests())
                .description("Requests cancelled (client gone, stop string, shutdown) since start").register(registry);
    }

    private void gauge(String name, String description, Engine engine, ToDoubleFunction<EngineGauges> f) {
        Gauge.builder(name, engine, e -> f.applyAsDouble(e.gauges())).description(description).register(registry);
    }

    /** Counts an answered request. */
    public void request(String endpoint, int status) {
        Counter.builder("jtune.http.requests").description("HTTP requests answered, by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status)).register(registry).increment();
    }

    public void requestLatency(String endpoint, long nanos) {
        Timer.builder("jtune.request.latency").description("Arrival to last byte of a completion request")
                .tag("endpoint", endpoint).publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(600))
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void timeToFirstToken(long nanos) {
        ttft.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interTokenLatency(long nanos) {
        interToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}
