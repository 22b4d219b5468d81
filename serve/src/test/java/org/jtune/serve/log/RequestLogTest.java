package org.jtune.serve.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequestLogTest {
    static RequestRecord row(String id, Instant at) {
        return new RequestRecord(id, at, "/v1/chat/completions", "m", null, null, "{\"model\":\"m\"}", "prompt", "out", 3, 4, 1.5, 20.25,
                "stop", 200, null);
    }

    /** Every row queued before close is in the database after it; feedback finds its request or says it did not. */
    static void roundTrip(String url) throws Exception {
        Instant t0 = Instant.parse("2026-12-04T06:00:00Z");
        try (RequestLog log = RequestLog.open(url)) {
            for (int i = 0; i < 500; i++) log.log(row("chatcmpl-" + i, t0.plusMillis(i)));
            assertTrue(log.feedback(new FeedbackRecord("fb-1", "chatcmpl-499", t0, 1.0, "better", null)).get(), "the row queued just before is found");
            assertFalse(log.feedback(new FeedbackRecord("fb-2", "chatcmpl-nope", t0, -1.0, null, null)).get());
            log.log(row("chatcmpl-last", t0.plusSeconds(10)));
        }
        try (Connection c = DriverManager.getConnection(url)) {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM requests")) {
                rs.next();
                assertEquals(501, rs.getInt(1));
            }
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT created_at, prompt_tokens, completion_tokens, ttft_ms, latency_ms, adapter, finish_reason, status FROM requests WHERE id = 'chatcmpl-0'")) {
                assertTrue(rs.next());
                assertEquals("2026-12-04T06:00:00.000Z", rs.getString(1), "fixed-width ISO-8601 UTC with milliseconds");
                assertEquals(3, rs.getInt(2));
                assertEquals(4, rs.getInt(3));
                assertEquals(1.5, rs.getDouble(4));
                assertEquals(20.25, rs.getDouble(5));
                assertNull(rs.getString(6));
                assertEquals("stop", rs.getString(7));
                assertEquals(200, rs.getInt(8));
            }
            try (ResultSet rs = c.createStatement().executeQuery("SELECT request_id, rating, correction FROM feedback")) {
                assertTrue(rs.next());
                assertEquals("chatcmpl-499", rs.getString(1));
                assertEquals(1.0, rs.getDouble(2));
                assertEquals("better", rs.getString(3));
                assertFalse(rs.next(), "feedback on an unknown request is not stored");
            }
        }
    }

    @Test
    void sqliteRoundTrip(@TempDir Path tmp) throws Exception {
        roundTrip("jdbc:sqlite:" + tmp.resolve("log.db"));
        // reopening an existing database keeps its rows (CREATE ... IF NOT EXISTS)
        try (RequestLog log = RequestLog.open("jdbc:sqlite:" + tmp.resolve("log.db"))) {
            assertTrue(log.feedback(new FeedbackRecord("fb-3", "chatcmpl-7", Instant.now(), null, null, "ok")).get());
        }
    }

    @Test
    void postgresqlRoundTrip() throws Exception {
        try (LocalPostgres pg = LocalPostgres.start()) {
            roundTrip(pg.url());
        }
    }

    @Test
    void aBadRowCostsOnlyItself(@TempDir Path tmp) throws Exception {
        String url = "jdbc:sqlite:" + tmp.resolve("log.db");
        try (RequestLog log = RequestLog.open(url)) {
            log.log(row("dup", Instant.now()));
            log.log(row("dup", Instant.now())); // primary key clash
            log.log(row("after", Instant.now()));
        }
        try (Connection c = DriverManager.getConnection(url); ResultSet rs = c.createStatement().executeQuery("SELECT id FROM requests ORDER BY id")) {
            assertTrue(rs.next());
            assertEquals("after", rs.getString(1));
            assertTrue(rs.next());
            assertEquals("dup", rs.getString(1));
            assertFalse(rs.next());
        }
    }

    @Test
    void theSchemaSplitsIntoItsStatements() throws Exception {
        List<String> s = RequestLog.schema();
        assertEquals(4, s.size());
        assertTrue(s.get(0).startsWith("CREATE TABLE IF NOT EXISTS requests"));
        for (String st : s) assertFalse(st.contains("--"));
    }

    @Test
    void anUnreachableDatabaseIsAClearError() {
        var e = assertThrows(JtuneException.class, () -> RequestLog.open("jdbc:nosuchdb://x"));
        assertTrue(e.getMessage().contains("jdbc:nosuchdb://x"), e.getMessage());
    }
}
