package org.jtune.serve.monitor;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.serve.registry.Clock;
import org.jtune.serve.registry.Database;

/**
 * Reads the server's request log (tables {@code requests} and {@code feedback} as schema.sql defines
 * them; never writes it) from SQLite or PostgreSQL, over a time window of {@code created_at}.
 */
public final class RequestLog {
    private final Database db;

    private RequestLog(Database db) {
        this.db = db;
    }

    public static RequestLog open(String spec) throws JtuneException {
        Database db = Database.of(spec);
        if (db.missingFile()) throw new JtuneException("request log " + spec + " does not exist (jtune serve --log-db writes it)");
        return new RequestLog(db);
    }

    public Database database() {
        return db;
    }

    /** [from, until) as the log stores times. */
    public record Window(Instant from, Instant until) {
        public static Window last(Duration d) {
            Instant now = Instant.now();
            return new Window(now.minus(d), now.plusMillis(1));
        }

        public static Window all() {
            return new Window(Instant.EPOCH, Instant.parse("9999-01-01T00:00:00Z"));
        }

        String fromText() {
            return Clock.format(from);
        }

        String untilText() {
            return Clock.format(until);
        }
    }

    /** Requests created in the window, oldest first. */
    public List<LoggedRequest> requests(Window w) throws JtuneException {
        return query(c -> {
            List<LoggedRequest> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, created_at, endpoint, model, adapter, model_version, request_json, prompt_text, "
                    + "output_text, prompt_tokens, completion_tokens, ttft_ms, latency_ms, finish_reason, status, error FROM requests "
                    + "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id")) {
                p.setString(1, w.fromText());
                p.setString(2, w.untilText());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LoggedRequest(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                                rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), integer(rs, 10), integer(rs, 11),
                                real(rs, 12), real(rs, 13), rs.getString(14), rs.getInt(15), rs.getString(16)));
                    }
                }
            }
            return out;
        });
    }

    /** One feedback row with the request it is about (null fields when that request is not in the log). */
    public record Feedback(String id, String requestId, String createdAt, Double rating, String correction, String comment, LoggedRequest request) {}

    /** Feedback created in the window, oldest first, joined with its request. */
    public List<Feedback> feedback(Window w) throws JtuneException {
        return query(c -> {
            List<Feedback> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT f.id, f.request_id, f.created_at, f.rating, f.correction, f.comment, "
                    + "r.id, r.created_at, r.endpoint, r.model, r.adapter, r.model_version, r.request_json, r.prompt_text, r.output_text, "
                    + "r.prompt_tokens, r.completion_tokens, r.ttft_ms, r.latency_ms, r.finish_reason, r.status, r.error "
                    + "FROM feedback f LEFT JOIN requests r ON r.id = f.request_id "
                    + "WHERE f.created_at >= ? AND f.created_at < ? ORDER BY f.created_at, f.id")) {
                p.setString(1, w.fromText());
                p.setString(2, w.untilText());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        LoggedRequest r = rs.getString(7) == null ? null : new LoggedRequest(rs.getString(7), rs.getString(8), rs.getString(9),
                                rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13), rs.getString(14), rs.getString(15),
                                integer(rs, 16), integer(rs, 17), real(rs, 18), real(rs, 19), rs.getString(20), rs.getInt(21), rs.getString(22));
                        out.add(new Feedback(rs.getString(1), rs.getString(2), rs.getString(3), real(rs, 4), rs.getString(5), rs.getString(6), r));
                    }
                }
            }
            return out;
        });
    }

    private interface Query<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T query(Query<T> q) throws JtuneException {
        try (Connection c = db.connectReadOnly()) {
            return q.run(c);
        } catch (SQLException e) {
            throw new JtuneException("request log " + db.spec() + ": " + e.getMessage()
                    + " (is it the log jtune serve --log-db writes? tables requests and feedback)", e);
        }
    }

    private static Integer integer(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : (int) v;
    }

    private static Double real(ResultSet rs, int i) throws SQLException {
        double v = rs.getDouble(i);
        return rs.wasNull() ? null : v;
    }
}
