package org.jtune.serve.http;

import java.time.Duration;

/**
 * How the HTTP server listens and what it accepts.
 *
 * @param host          the address to bind (127.0.0.1 unless told otherwise: only this machine can call)
 * @param port          the TCP port (0: any free one, see {@link OpenAiServer#port()})
 * @param apiKey        the key clients must send, or null for none
 * @param maxBodyBytes  larger request bodies are refused with 413
 * @param drainTimeout  at shutdown, how long in-flight requests may take to finish
 * @param fingerprint   system_fingerprint of every answer
 * @param reasoning     chat answers of a model with &lt;think&gt; tokens carry its thinking apart from the content
 *                      ({@link org.jtune.serve.text.ReasoningSplit}); false: as raw text in the content
 */
public record ServerOptions(String host, int port, String apiKey, long maxBodyBytes, Duration drainTimeout, String fingerprint,
                            boolean reasoning) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8000;
    public static final long DEFAULT_MAX_BODY_BYTES = 4L << 20;

    public ServerOptions {
        if (host == null || host.isBlank()) host = DEFAULT_HOST;
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        if (drainTimeout == null) drainTimeout = Duration.ofSeconds(60);
        if (fingerprint == null) fingerprint = "fp_jtune";
        if (apiKey != null && apiKey.isEmpty()) throw new IllegalArgumentException("an API key must not be empty");
    }

    public static ServerOptions defaults() {
        return new ServerOptions(DEFAULT_HOST, DEFAULT_PORT, null, DEFAULT_MAX_BODY_BYTES, null, null, true);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, apiKey, maxBodyBytes, drainTimeout, fingerprint, reasoning);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, apiKey, maxBodyBytes, drainTimeout, fingerprint, reasoning);
    }

    public ServerOptions withApiKey(String k) {
        return new ServerOptions(host, port, k, maxBodyBytes, drainTimeout, fingerprint, reasoning);
    }

    public ServerOptions withMaxBodyBytes(long b) {
        return new ServerOptions(host, port, apiKey, b, drainTimeout, fingerprint, reasoning);
    }

    public ServerOptions withDrainTimeout(Duration d) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, d, fingerprint, reasoning);
    }

    public ServerOptions withReasoning(boolean split) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, drainTimeout, fingerprint, split);
    }

    public ServerOptions withFingerprint(String f) {
        return new ServerOptions(host, port, apiKey, maxBodyBytes, drainTimeout, f, reasoning);
    }
}
