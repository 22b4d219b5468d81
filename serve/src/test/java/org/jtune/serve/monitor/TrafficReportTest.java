package org.jtune.serve.monitor;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Traffic figures on a request log the test writes with the server's schema; expected values worked out by hand. */
class TrafficReportTest {

    @Test
    void latencyRatesAndTokensPerVersionWithChecks(@TempDir Path dir) throws Exception {
        try (RequestLogFixture log = new RequestLogFixture(dir.resolve("log.db"))) {
            for (int i = 1; i <= 20; i++) {
                String out = i == 7 ? "I'm sorry, but I cannot route that" : "billing";
                log.chat("Route the ticket.", "ticket number " + i, out, 10.0 * i, 200, i <= 10 ? "tickets:1" : "tickets:2", null);
            }
            log.chat(null, "x", null, null, 500, "tickets:2", null);
            log.chat(null, "x", null, null, 500, "tickets:2", null);
            for (int i = 0; i < 3; i++) log.chat(null, "y", null, null, 429, null, null);
        }
        RequestLog rl = RequestLog.open(dir.resolve("log.db").toString());
        List<LoggedRequest> rs = rl.requests(RequestLog.Window.all());
        assertEquals(25, rs.size());
        TrafficReport r = TrafficReport.of(rs, RequestLog.Window.all(), MonitorThresholds.DEFAULTS, 5);
        JsonNode all = r.toJson().get("groups").get("all");
        assertEquals(25, all.get("requests").asInt());
        // ok latencies 10..200: p50 = 105; p95 at index 18.05 → 190.5; p99 at 18.81 → 198.1
        assertEquals(105.0, all.get("latency_p50_ms").asDouble(), 1e-9);
        assertEquals(190.5, all.get("latency_p95_ms").asDouble(), 1e-9);
        assertEquals(198.1, all.get("latency_p99_ms").asDouble(), 1e-9);
        assertEquals(105.0 / 4, all.get("ttft_p50_ms").asDouble(), 1e-9);
        assertEquals(2.0 / 25, all.get("error_rate").asDouble(), 1e-12);
        assertEquals(3.0 / 25, all.get("rejected_rate").asDouble(), 1e-12);
        assertEquals(1.0 / 25, all.get("refusal_rate").asDouble(), 1e-12);
        // completion tokens: 19 × "billing" (1 word) + the refusal (7 words) = 26, over 2100 ms of latency
        assertEquals(26, all.get("completion_tokens").asInt());
        assertEquals(26 / 2.1, all.get("tokens_per_second").asDouble(), 1e-9);
        JsonNode v1 = r.toJson().get("groups").get("tickets:1|-");
        assertEquals(10, v1.get("requests").asInt());
        assertEquals(55.0, v1.get("latency_p50_ms").asDouble(), 1e-9);
        assertEquals(12, r.toJson().get("groups").get("tickets:2|-").get("requests").asInt());
        assertEquals(5, r.series().size());
        assertEquals(25, r.series().stream().mapToInt(TrafficReport.Bucket::requests).sum());
        // defaults: error rate 0.08 > 0.02 and rejected 0.12 > 0.10 alert on "all"; groups under 20 requests are not judged
        assertTrue(r.alert());
        List<String> alerts = r.checks().stream().filter(Check::alert).map(c -> c.name() + "@" + c.scope()).toList();
        assertEquals(List.of("error_rate@all", "rejected_rate@all"), alerts);
        assertTrue(r.checks().stream().noneMatch(c -> c.scope().startsWith("tickets:")), "under min_requests: not judged");

        Path lenient = Files.writeString(dir.resolve("t.yaml"), "error_rate: 0.2\nrejected_rate: 0.2\nmin_requests: 5\n");
        TrafficReport ok = TrafficReport.of(rs, RequestLog.Window.all(), MonitorThresholds.load(lenient), 5);
        assertFalse(ok.alert(), ok.toJson().toString());
        assertTrue(ok.checks().stream().anyMatch(c -> c.scope().equals("tickets:1|-")));
    }

    @Test
    void badThresholdsAndMissingLogAreNamed(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("t.yaml"), "error_rate: 0.1\nlatency_p95: 3\n");
        JtuneException e = assertThrows(JtuneException.class, () -> MonitorThresholds.load(bad));
        assertTrue(e.getMessage().contains("t.yaml:2") && e.getMessage().contains("latency_p95"), e.getMessage());
        Path neg = Files.writeString(dir.resolve("n.yaml"), "error_rate: -1\n");
        assertThrows(JtuneException.class, () -> MonitorThresholds.load(neg));
        assertThrows(JtuneException.class, () -> RequestLog.open(dir.resolve("none.db").toString()));
    }
}
