package org.jtune.serve.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.jtune.JtuneException;
import org.jtune.serve.monitor.MonitorThresholds;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.serve.monitor.TrafficReport;
import org.jtune.serve.registry.AuditEntry;
import org.jtune.serve.registry.Clock;
import org.jtune.serve.registry.ModelVersion;
import org.jtune.serve.registry.Registry;

/**
 * `jtune dashboard`: a read-only web page over a registry, a request log and drift reports, served by
 * the JDK's HTTP server (GET / the page, GET /health). Each request reads the databases afresh, so the
 * page shows promotions and traffic as they happen; a part that cannot be read is named on the page
 * instead of failing it. Binds where it is told (the CLI defaults to loopback).
 */
public final class DashboardServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to show; each source may be null / empty. */
    public record Sources(Registry registry, RequestLog log, Duration window, MonitorThresholds thresholds, List<Path> driftReports) {}

    private final HttpServer http;
    private final Sources sources;

    private DashboardServer(HttpServer http, Sources sources) {
        this.http = http;
        this.sources = sources;
    }

    public static DashboardServer start(String host, int port, Sources sources) throws JtuneException {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 0);
            DashboardServer s = new DashboardServer(http, sources);
            http.createContext("/", s::handle);
            http.setExecutor(Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "dashboard");
                t.setDaemon(true);
                return t;
            }));
            http.start();
            return s;
        } catch (IOException e) {
            throw new JtuneException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                send(ex, 405, "text/plain", "read-only: GET only");
            } else if (path.equals("/health")) {
                send(ex, 200, "text/plain", "ok");
            } else if (path.equals("/") || path.equals("/index.html")) {
                send(ex, 200, "text/html; charset=utf-8", DashboardPage.render(data()));
            } else {
                send(ex, 404, "text/plain", "not found");
            }
        }
    }

    /** A snapshot of every source, read now. */
    public DashboardPage.Data data() {
        List<String> problems = new ArrayList<>();
        Map<String, List<ModelVersion>> versions = new LinkedHashMap<>();
        List<AuditEntry> audit = List.of();
        if (sources.registry() != null) {
            try {
                for (String n : sources.registry().names()) versions.put(n, sources.registry().versions(n));
                audit = sources.registry().audit(null);
            } catch (JtuneException e) {
                problems.add("registry: " + e.getMessage());
            }
        }
        ObjectNode traffic = null;
        List<RequestLog.Feedback> feedback = List.of();
        if (sources.log() != null) {
            try {
                RequestLog.Window w = RequestLog.Window.last(sources.window());
                traffic = TrafficReport.of(sources.log().requests(w), w, sources.thresholds(), 24).toJson();
                List<RequestLog.Feedback> all = sources.log().feedback(w);
                feedback = new ArrayList<>(all.subList(Math.max(0, all.size() - 50), all.size()));
                java.util.Collections.reverse(feedback);
            } catch (JtuneException e) {
                problems.add("request log: " + e.getMessage());
            }
        }
        List<ObjectNode> drift = new ArrayList<>();
        for (Path p : sources.driftReports()) {
            try {
                drift.add((ObjectNode) JSON.readTree(Files.readString(p)));
            } catch (IOException | ClassCastException e) {
                problems.add("drift report " + p + ": " + e.getMessage());
            }
        }
        return new DashboardPage.Data(versions, audit, traffic, drift, feedback, Clock.now(), problems);
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
