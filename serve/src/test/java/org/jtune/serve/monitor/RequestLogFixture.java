package org.jtune.serve.monitor;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;

/**
 * A request log written by a test exactly as the server's schema defines it: the tables are created
 * by running serve's schema.sql (the file the server uses), rows inserted with plain JDBC.
 */
public final class RequestLogFixture implements AutoCloseable {
    final Path file;
    private final Connection c;
    private int n;
    Instant clock = Instant.now().minusSeconds(3600);

    public RequestLogFixture(Path file) throws Exception {
        this.file = file;
        this.c = DriverManager.getConnection("jdbc:sqlite:" + file);
        String schema;
        try (InputStream in = getClass().getResourceAsStream("/org/jtune/serve/log/schema.sql")) {
            schema = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Statement s = c.createStatement()) {
            for (String block : schema.split("\\n\\s*\\n")) {
                StringBuilder sb = new StringBuilder();
                for (String line : block.split("\\n")) {
                    int k = line.indexOf("--");
                    sb.append(k >= 0 ? line.substring(0, k) : line).append('\n');
                }
                String stmt = sb.toString().strip();
                if (!stmt.isEmpty()) s.execute(stmt);
            }
        }
    }

    /** A chat request; returns its id. Times advance by one second per request. */
    public String chat(String system, String user, String output, Double latencyMs, int status, String modelVersion, String adapter) throws Exception {
        String id = "chatcmpl-" + (++n);
        clock = clock.plusSeconds(1);
        String body = "{\"model\":\"tickets\",\"messages\":[" + (system == null ? "" : "{\"role\":\"system\",\"content\":" + q(system) + "},")
                + "{\"role\":\"user\",\"content\":" + q(user) + "}]}";
        try (PreparedStatement p = c.prepareStatement("INSERT INTO requests (id, created_at, endpoint, model, adapter, model_version, request_json, "
                + "prompt_text, output_text, prompt_tokens, completion_tokens, ttft_ms, latency_ms, finish_reason, status, error) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, id);
            p.setString(2, org.jtune.serve.registry.Clock.format(clock));
            p.setString(3, "/v1/chat/completions");
            p.setString(4, "tickets");
            p.setString(5, adapter);
            p.setString(6, modelVersion);
            p.setString(7, body);
            p.setString(8, user);
            p.setString(9, status == 200 ? output : null);
            p.setInt(10, user.split("\\s+").length);
            if (status == 200) p.setInt(11, output.split("\\s+").length);
            else p.setNull(11, Types.INTEGER);
            if (latencyMs == null) p.setNull(12, Types.DOUBLE);
            else p.setDouble(12, latencyMs / 4);
            if (latencyMs == null) p.setNull(13, Types.DOUBLE);
            else p.setDouble(13, latencyMs);
            p.setString(14, status == 200 ? "stop" : status >= 500 ? "error" : null);
            p.setInt(15, status);
            p.setString(16, status >= 400 ? "failed" : null);
            p.executeUpdate();
        }
        return id;
    }

    public void feedback(String requestId, Double rating, String correction) throws Exception {
        clock = clock.plusSeconds(1);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO feedback (id, request_id, created_at, rating, correction, comment) VALUES (?, ?, ?, ?, ?, ?)")) {
            p.setString(1, "fb-" + (++n));
            p.setString(2, requestId);
            p.setString(3, org.jtune.serve.registry.Clock.format(clock));
            if (rating == null) p.setNull(4, Types.DOUBLE);
            else p.setDouble(4, rating);
            p.setString(5, correction);
            p.setString(6, null);
            p.executeUpdate();
        }
    }

    static String q(String s) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString();
    }

    @Override
    public void close() throws Exception {
        c.close();
    }
}
