package org.jtune.serve.monitor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Production figures of a window of the request log, for all traffic and per (model version,
 * adapter): request count, error / rejected / refusal / cancelled rates, latency and time-to-first-
 * token percentiles (p50/p95/p99, of successful requests), prompt and completion tokens (sum, mean),
 * generated tokens per second of latency; a time series in equal buckets (requests, errors, latency
 * p50/p95) for charts; and the checks against {@link MonitorThresholds}. Rates are judged only with at
 * least {@code minRequests} requests in a group.
 */
public record TrafficReport(RequestLog.Window window, Map<String, Group> groups, List<Bucket> series, List<Check> checks) {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String ALL = "all";

    public record Group(String modelVersion, String adapter, int requests, int errors, int rejected, int refusals, int cancelled,
                        double[] latencyPercentiles, double[] ttftPercentiles, long promptTokens, long completionTokens,
                        double meanPromptTokens, double meanCompletionTokens, double tokensPerSecond) {
        double rate(int n) {
            return requests == 0 ? Double.NaN : (double) n / requests;
        }
    }

    public record Bucket(String start, int requests, int errors, double latencyP50, double latencyP95) {}

    static final double[] PERCENTILES = {0.50, 0.95, 0.99};

    public static TrafficReport of(List<LoggedRequest> requests, RequestLog.Window window, MonitorThresholds t, int buckets) {
        Map<String, List<LoggedRequest>> byGroup = new TreeMap<>();
        byGroup.put(ALL, requests);
        for (LoggedRequest r : requests) byGroup.computeIfAbsent(key(r), k -> new ArrayList<>()).add(r);
        Map<String, Group> groups = new LinkedHashMap<>();
        List<Check> checks = new ArrayList<>();
        for (var e : byGroup.entrySet()) {
            Group g = group(e.getValue(), t);
            groups.put(e.getKey(), g);
            if (g.requests() < t.minRequests()) continue;
            checks.add(new Check("error_rate", e.getKey(), g.rate(g.errors()), t.errorRate(), true));
            checks.add(new Check("rejected_rate", e.getKey(), g.rate(g.rejected()), t.rejectedRate(), true));
            checks.add(new Check("refusal_rate", e.getKey(), g.rate(g.refusals()), t.refusalRate(), true));
            checks.add(new Check("latency_p95_ms", e.getKey(), g.latencyPercentiles()[1], t.latencyP95Ms(), true));
            checks.add(new Check("latency_p99_ms", e.getKey(), g.latencyPercentiles()[2], t.latencyP99Ms(), true));
        }
        return new TrafficReport(window, groups, series(requests, buckets), checks);
    }

    /** "version|adapter" with "-" for a missing part. */
    static String key(LoggedRequest r) {
        return (r.modelVersion() == null ? "-" : r.modelVersion()) + "|" + (r.adapter() == null ? "-" : r.adapter());
    }

    static Group group(List<LoggedRequest> rs, MonitorThresholds t) {
        int errors = 0, rejected = 0, refusals = 0, cancelled = 0;
        long prompt = 0, completion = 0;
        int withPrompt = 0, withCompletion = 0;
        double completionOk = 0, latencyOk = 0;
        List<Double> lat = new ArrayList<>(), ttft = new ArrayList<>();
        for (LoggedRequest r : rs) {
            if (r.isError()) errors++;
            if (r.isRejected()) rejected++;
            if ("cancelled".equals(r.finishReason())) cancelled++;
            if (r.ok() && refuses(r.outputText(), t.refusalPatterns())) refusals++;
            if (r.promptTokens() != null) {
                prompt += r.promptTokens();
                withPrompt++;
            }
            if (r.completionTokens() != null) {
                completion += r.completionTokens();
                withCompletion++;
            }
            if (r.ok() && r.latencyMs() != null) {
                lat.add(r.latencyMs());
                if (r.completionTokens() != null) {
                    completionOk += r.completionTokens();
                    latencyOk += r.latencyMs();
                }
            }
            if (r.ok() && r.ttftMs() != null) ttft.add(r.ttftMs());
        }
        LoggedRequest first = rs.isEmpty() ? null : rs.getFirst();
        return new Group(first == null ? null : first.modelVersion(), first == null ? null : first.adapter(), rs.size(), errors, rejected,
                refusals, cancelled, percentiles(lat), percentiles(ttft), prompt, completion,
                withPrompt == 0 ? Double.NaN : (double) prompt / withPrompt, withCompletion == 0 ? Double.NaN : (double) completion / withCompletion,
                latencyOk == 0 ? Double.NaN : completionOk / (latencyOk / 1000));
    }

    static boolean refuses(String output, List<String> patterns) {
        if (output == null) return false;
        String o = output.toLowerCase(Locale.ROOT);
        for (String p : patterns) if (o.contains(p)) return true;
        return false;
    }

    static double[] percentiles(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] p = new double[PERCENTILES.length];
        for (int i = 0; i < p.length; i++) p[i] = Quantiles.ofSorted(a, PERCENTILES[i]);
        return p;
    }

    /** Equal-width buckets from the first to the last request. */
    static List<Bucket> series(List<LoggedRequest> rs, int buckets) {
        List<Bucket> out = new ArrayList<>();
        if (rs.isEmpty() || buckets < 1) return out;
        long t0 = Instant.parse(rs.getFirst().createdAt()).toEpochMilli(), t1 = Instant.parse(rs.getLast().createdAt()).toEpochMilli() + 1;
        double width = Math.max(1.0, (double) (t1 - t0) / buckets);
        List<List<LoggedRequest>> parts = new ArrayList<>();
        for (int i = 0; i < buckets; i++) parts.add(new ArrayList<>());
        for (LoggedRequest r : rs) {
            int k = (int) Math.min(buckets - 1, (Instant.parse(r.createdAt()).toEpochMilli() - t0) / width);
            parts.get(k).add(r);
        }
        for (int i = 0; i < buckets; i++) {
            List<LoggedRequest> p = parts.get(i);
            List<Double> lat = new ArrayList<>();
            int err = 0;
            for (LoggedRequest r : p) {
                if (r.isError()) err++;
                if (r.ok() && r.latencyMs() != null) lat.add(r.latencyMs());
            }
            double[] q = percentiles(lat);
            out.add(new Bucket(org.jtune.serve.registry.Clock.format(Instant.ofEpochMilli(t0 + (long) (i * width))), p.size(), err, q[0], q[1]));
        }
        return out;
    }

    public boolean alert() {
        return checks.stream().anyMatch(Check::alert);
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "traffic").put("from", org.jtune.serve.registry.Clock.format(window.from()))
                .put("until", org.jtune.serve.registry.Clock.format(window.until())).put("alert", alert());
        ObjectNode gs = o.putObject("groups");
        for (var e : groups.entrySet()) {
            Group g = e.getValue();
            ObjectNode n = gs.putObject(e.getKey());
            if (!e.getKey().equals(ALL)) n.put("model_version", g.modelVersion()).put("adapter", g.adapter());
            n.put("requests", g.requests()).put("errors", g.errors()).put("rejected", g.rejected()).put("refusals", g.refusals())
                    .put("cancelled", g.cancelled());
            num(n, "error_rate", g.rate(g.errors()));
            num(n, "rejected_rate", g.rate(g.rejected()));
            num(n, "refusal_rate", g.rate(g.refusals()));
            for (int i = 0; i < PERCENTILES.length; i++) {
                num(n, "latency_p" + (int) Math.round(PERCENTILES[i] * 100) + "_ms", g.latencyPercentiles()[i]);
                num(n, "ttft_p" + (int) Math.round(PERCENTILES[i] * 100) + "_ms", g.ttftPercentiles()[i]);
            }
            n.put("prompt_tokens", g.promptTokens()).put("completion_tokens", g.completionTokens());
            num(n, "mean_prompt_tokens", g.meanPromptTokens());
            num(n, "mean_completion_tokens", g.meanCompletionTokens());
            num(n, "tokens_per_second", g.tokensPerSecond());
        }
        ArrayNode s = o.putArray("series");
        for (Bucket b : series) {
            ObjectNode n = s.addObject().put("start", b.start()).put("requests", b.requests()).put("errors", b.errors());
            num(n, "latency_p50_ms", b.latencyP50());
            num(n, "latency_p95_ms", b.latencyP95());
        }
        ArrayNode c = o.putArray("checks");
        for (Check k : checks) k.into(c.addObject());
        return o;
    }

    static void num(ObjectNode n, String k, double v) {
        if (Double.isFinite(v)) n.put(k, v);
        else n.putNull(k);
    }
}
