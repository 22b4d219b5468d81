package org.jtune.serve.http;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import org.jtune.JtuneException;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.metrics.ServerMetrics;
import org.jtune.serve.text.PromptCodec;

/**
 * The OpenAI-compatible HTTP server: Jetty 12 (core API, HTTP/1.1) with one virtual thread per
 * request, in front of an {@link Engine}. {@link #close} shuts down in order: stop accepting
 * connections and answer new requests with 503, let in-flight requests finish (up to the drain
 * timeout), close the engine, then flush and close the request log — nothing accepted is lost from
 * the log.
 */
public final class OpenAiServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final ApiHandler handler;
    private final Engine engine;
    private final RequestLog log;
    private final ServerMetrics metrics;
    private final ServerOptions options;
    private boolean closed;

    private OpenAiServer(Engine engine, PromptCodec codec, RequestLog log, ServerOptions options) {
        this.engine = engine;
        this.log = log;
        this.options = options;
        this.metrics = new ServerMetrics(engine);
        VirtualThreadPool threads = new VirtualThreadPool();
        threads.setName("jtune-http");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost(options.host());
        connector.setPort(options.port());
        connector.setIdleTimeout(10 * 60 * 1000L); // a long generation may stream slowly; SSE keeps the connection busy
        server.addConnector(connector);
        this.handler = new ApiHandler(engine, new CompletionEndpoint(engine, codec, metrics, log, options.fingerprint(), options.reasoning()),
                new TokenizerEndpoints(engine, codec), metrics, log, options);
        server.setHandler(new GracefulHandler(handler));
        server.setStopTimeout(options.drainTimeout().toMillis());
        server.setStopAtShutdown(false); // the caller (jtune serve's shutdown hook) closes in order
    }

    /**
     * Starts listening. The server owns the engine and the log from here on and closes them in
     * {@link #close}.
     *
     * @param log the request log, or null to keep none
     */
    public static OpenAiServer start(Engine engine, PromptCodec codec, RequestLog log, ServerOptions options) throws JtuneException {
        OpenAiServer s = new OpenAiServer(engine, codec, log, options);
        try {
            s.server.start();
        } catch (Exception e) {
            try {
                s.server.stop();
            } catch (Exception ignored) {
                // it did not start
            }
            throw new JtuneException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        return s;
    }

    /** The port it listens on (the chosen one when the options said 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public String host() {
        return options.host();
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    public Engine engine() {
        return engine;
    }

    /**
     * Closes this server (draining it) when the JVM is asked to stop: SIGTERM, SIGINT (Ctrl-C), or
     * System.exit. In-flight requests finish and the request log is flushed before the JVM exits.
     */
    public OpenAiServer closeOnShutdown() {
        return closeOnShutdown(() -> {});
    }

    /** {@link #closeOnShutdown()}, then {@code then} (the CLI says it stopped). */
    public OpenAiServer closeOnShutdown(Runnable then) {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jtune-serve-shutdown").unstarted(() -> {
            close();
            then.run();
        }));
        return this;
    }

    /** Blocks until the server has stopped. */
    public void join() throws InterruptedException {
        server.join();
    }

    /** Drains and stops: in-flight requests finish (up to the drain timeout), then engine and log close. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        handler.draining();
        try {
            server.stop(); // graceful: connectors close, GracefulHandler waits for in-flight requests
        } catch (Exception e) {
            System.err.println("jtune serve: stopping the HTTP server: " + e.getMessage());
        }
        try {
            engine.drain(java.time.Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine.close();
        if (log != null) log.close();
    }
}
