package org.jtune.serve.log;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jtune.JtuneException;

/**
 * The request log: every completion request and every piece of feedback, written to the tables of
 * {@code schema.sql} through JDBC — an embedded SQLite file by default, PostgreSQL (or any database
 * that takes the schema) by URL. Writes are off the request path: callers enqueue, one writer thread
 * inserts in transactions of whatever has queued up. {@link #close} writes everything still queued
 * before it returns, so nothing accepted is lost at shutdown. Feedback goes through the same queue, in
 * order, so feedback about a request always finds the request's row; its future says whether it did.
 */
public final class RequestLog implements AutoCloseable {
    /** Times as ISO-8601 UTC text with milliseconds: fixed width, so text order is time order. */
    public static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** The default database: SQLite, in the working folder. */
    public static final String DEFAULT_URL = "jdbc:sqlite:jtune-requests.db";

    private record FeedbackTask(FeedbackRecord record, CompletableFuture<Boolean> found) {}

    private static final Object STOP = new Object();

    private final String url;
    private final Connection connection;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean closed;
    private volatile String lastError;

    private RequestLog(String url, Connection connection) {
        this.url = url;
        this.connection = connection;
        this.writer = Thread.ofPlatform().name("jtune-request-log").daemon(true).unstarted(this::run);
    }

    /** Opens (creating the tables if needed) the database at this JDBC URL and starts the writer. */
    public static RequestLog open(String jdbcUrl) throws JtuneException {
        Connection c;
        try {
            c = DriverManager.getConnection(jdbcUrl);
        } catch (SQLException e) {
            throw new JtuneException("request log " + jdbcUrl + ": cannot connect: " + e.getMessage()
                    + " (give a jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB?user=..&password=.. URL)", e);
        }
        try {
            if (jdbcUrl.startsWith("jdbc:sqlite:")) {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA journal_mode=WAL"); // readers (jtune monitor, the dashboard) do not block the writer
                    s.execute("PRAGMA busy_timeout=5000");
                }
            }
            for (String statement : schema()) {
                try (Statement s = c.createStatement()) {
                    s.execute(statement);
                }
            }
        } catch (SQLException | IOException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already failing
            }
            throw new JtuneException("request log " + jdbcUrl + ": cannot create the tables: " + e.getMessage(), e);
        }
        RequestLog log = new RequestLog(jdbcUrl, c);
        log.writer.start();
        return log;
    }

    /** The statements of schema.sql (blank-line-separated blocks, comments removed). */
    static List<String> schema() throws IOException {
        try (InputStream in = RequestLog.class.getResourceAsStream("schema.sql")) {
            if (in == null) throw new IOException("schema.sql is missing from the jar");
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String block : text.split("\\n\\s*\\n")) {
                StringBuilder sb = new StringBuilder();
                for (String line : block.split("\\n")) {
                    int dash = line.indexOf("--");
                    String code = dash >= 0 ? line.substring(0, dash) : line;
                    if (!code.isBlank()) sb.append(code.stripTrailing()).append('\n');
                }
                String stmt = sb.toString().strip();
                if (stmt.endsWith(";")) stmt = stmt.substring(0, stmt.length() - 1);
                if (!stmt.isEmpty()) out.add(stmt);
            }
            return out;
        }
    }

    public String url() {
        return url;
    }

    /** Queues a request row; returns at once. */
    public void log(RequestRecord record) {
        if (closed) throw new IllegalStateException("request log is closed");
        queue.add(record);
    }

    /** Queues feedback; the future completes with false when no request has that id (nothing is stored then). */
    public CompletableFuture<Boolean> feedback(FeedbackRecord record) {
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException("request log is closed"));
        CompletableFuture<Boolean> found = new CompletableFuture<>();
        queue.add(new FeedbackTask(record, found));
        return found;
    }

    /** Rows waiting to be written. */
    public int pending() {
        return queue.size();
    }

    /** The last write error, or null (a row that cannot be written is reported here and on stderr). */
    public String lastError() {
        return lastError;
    }

    /** Writes everything queued, stops the writer and closes the connection. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        queue.add(STOP);
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // nothing left to write
        }
    }

    private void run() {
        List<Object> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            try {
                Object first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, 1000);
            } catch (InterruptedException e) {
                queue.drainTo(batch);
                stop = true;
            }
            if (batch.remove(STOP)) {
                queue.drainTo(batch);
                stop = true;
            }
            if (!batch.isEmpty()) write(batch);
            batch.clear();
        }
    }

    /** One transaction for the batch; if it fails, each row in its own, so one bad row costs only itself. */
    private void write(List<Object> batch) {
        try {
            writeOnce(batch);
            return;
        } catch (SQLException e) {
            rollback();
            if (batch.size() == 1) {
                fail(batch.getFirst(), e);
                return;
            }
        }
        for (Object o : batch) {
            try {
                writeOnce(List.of(o));
            } catch (SQLException e) {
                rollback();
                fail(o, e);
            }
        }
    }

    private void fail(Object row, SQLException e) {
        lastError = e.getMessage();
        String what = row instanceof RequestRecord r ? "request " + r.id() : "feedback";
        System.err.println("jtune serve: request log " + url + ": " + what + " not written: " + e.getMessage());
        if (row instanceof FeedbackTask f) f.found().completeExceptionally(e);
    }

    private void rollback() {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the next write reports it
        }
    }

    private void writeOnce(List<Object> batch) throws SQLException {
        connection.setAutoCommit(false);
        List<Runnable> after = new ArrayList<>();
        try (PreparedStatement req = connection.prepareStatement(
                "INSERT INTO requests (id, created_at, endpoint, model, adapter, model_version, request_json, prompt_text, "
                        + "output_text, prompt_tokens, completion_tokens, ttft_ms, latency_ms, finish_reason, status, error) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             PreparedStatement exists = connection.prepareStatement("SELECT 1 FROM requests WHERE id = ?");
             PreparedStatement fb = connection.prepareStatement(
                     "INSERT INTO feedback (id, request_id, created_at, rating, correction, comment) VALUES (?, ?, ?, ?, ?, ?)")) {
            for (Object o : batch) {
                if (o instanceof RequestRecord r) {
                    req.setString(1, r.id());
                    req.setString(2, TIME.format(r.createdAt()));
                    req.setString(3, r.endpoint());
                    req.setString(4, r.model());
                    req.setString(5, r.adapter());
                    req.setString(6, r.modelVersion());
                    req.setString(7, r.requestJson());
                    req.setString(8, r.promptText());
                    req.setString(9, r.outputText());
                    setInt(req, 10, r.promptTokens());
                    setInt(req, 11, r.completionTokens());
                    setDouble(req, 12, r.ttftMs());
                    setDouble(req, 13, r.latencyMs());
                    req.setString(14, r.finishReason());
                    req.setInt(15, r.status());
                    req.setString(16, r.error());
                    req.executeUpdate();
                } else if (o instanceof FeedbackTask t) {
                    // rows of this transaction are visible to it, so feedback on a request queued just before is found
                    exists.setString(1, t.record().requestId());
                    boolean found;
                    try (var rs = exists.executeQuery()) {
                        found = rs.next();
                    }
                    if (found) {
                        FeedbackRecord f = t.record();
                        fb.setString(1, f.id());
                        fb.setString(2, f.requestId());
                        fb.setString(3, TIME.format(f.createdAt()));
                        setDouble(fb, 4, f.rating());
                        fb.setString(5, f.correction());
                        fb.setString(6, f.comment());
                        fb.executeUpdate();
                    }
                    after.add(() -> t.found().complete(found));
                }
            }
            connection.commit();
        }
        after.forEach(Runnable::run);
    }

    private static void setInt(PreparedStatement s, int i, Integer v) throws SQLException {
        if (v == null) s.setNull(i, Types.INTEGER);
        else s.setInt(i, v);
    }

    private static void setDouble(PreparedStatement s, int i, Double v) throws SQLException {
        if (v == null) s.setNull(i, Types.DOUBLE);
        else s.setDouble(i, v);
    }

    /** Now, as the log writes times. */
    public static String now() {
        return TIME.format(Instant.now());
    }
}
