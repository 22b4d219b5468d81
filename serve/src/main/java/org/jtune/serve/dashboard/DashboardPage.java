package org.jtune.serve.dashboard;

import org.jtune.io.HtmlText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jtune.serve.monitor.RequestLog;
import org.jtune.serve.registry.AuditEntry;
import org.jtune.serve.registry.ModelVersion;

/**
 * The dashboard as one self-contained HTML page (inline CSS and SVG, no script, no external URL, so
 * it works air-gapped): per model name its versions side by side (stage, lineage hashes, recipe keys
 * that differ, training and eval metrics) and the latest audit entries; traffic and latency charts of
 * the request log; drift panels (each report's checks); the feedback queue. It refreshes itself every
 * {@link #REFRESH_SECONDS}.
 */
public final class DashboardPage {
    public static final int REFRESH_SECONDS = 30;

    /** Everything one rendering shows; any part may be empty. */
    public record Data(Map<String, List<ModelVersion>> versions, List<AuditEntry> audit, ObjectNode traffic, List<ObjectNode> drift,
                       List<RequestLog.Feedback> feedback, String generatedAt, List<String> problems) {}

    private DashboardPage() {}

    public static String render(Data d) {
        StringBuilder b = new StringBuilder(16_384);
        b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"").append(REFRESH_SECONDS)
                .append("\"><title>jtune dashboard</title><style>").append(CSS).append("</style></head><body>");
        b.append("<header><h1>jtune dashboard</h1><span class=\"muted\">generated ").append(HtmlText.escape(d.generatedAt())).append("</span></header>");
        for (String p : d.problems()) b.append("<p class=\"problem\">").append(HtmlText.escape(p)).append("</p>");
        versions(b, d);
        traffic(b, d.traffic());
        drift(b, d.drift());
        feedback(b, d.feedback());
        return b.append("</body></html>").toString();
    }

    private static void versions(StringBuilder b, Data d) {
        b.append("<section id=\"versions\"><h2>Model versions</h2>");
        if (d.versions().isEmpty()) b.append("<p class=\"muted\">no registry, or no model registered</p>");
        for (var e : d.versions().entrySet()) {
            List<ModelVersion> vs = e.getValue();
            b.append("<h3>").append(HtmlText.escape(e.getKey())).append("</h3><div class=\"scroll\"><table class=\"versions\" data-name=\"")
                    .append(HtmlText.escape(e.getKey())).append("\"><tr><th></th>");
            for (ModelVersion v : vs) {
                b.append("<th class=\"stage-").append(v.stage().id()).append("\">").append(HtmlText.escape(v.label())).append("</th>");
            }
            b.append("</tr>");
            row(b, "stage", vs, v -> "<span class=\"badge " + v.stage().id() + "\">" + v.stage().id() + "</span>", false);
            row(b, "kind", vs, ModelVersion::kind, true);
            row(b, "registered", vs, v -> v.createdAt() + " by " + v.createdBy(), true);
            row(b, "parent", vs, v -> v.parentVersion() == null ? "-" : e.getKey() + ":" + v.parentVersion(), true);
            row(b, "artifact", vs, v -> short12(v.artifactSha256()), true);
            row(b, "base model", vs, v -> (v.baseModel() == null ? "-" : v.baseModel()) + " " + short12(v.baseSha256()), true);
            row(b, "datasets", vs, v -> {
                List<String> parts = new ArrayList<>();
                for (JsonNode ds : v.lineage().path("datasets")) {
                    parts.add(ds.path("role").asText() + " " + short12(ds.path("sha256").asText(null)) + " (" + ds.path("lines").asText("?") + " lines)");
                }
                return String.join(", ", parts);
            }, true);
            row(b, "data check", vs, v -> {
                JsonNode dc = v.lineage().path("data_check");
                return dc.has("passed") ? (dc.get("passed").asBoolean() ? "passed" : "FAILED") + ", " + dc.path("warnings").asInt() + " warnings"
                        : dc.path("skipped").asText("-");
            }, true);
            Set<String> recipeKeys = new LinkedHashSet<>();
            for (ModelVersion v : vs) v.lineage().path("recipe").fieldNames().forEachRemaining(recipeKeys::add);
            for (String k : recipeKeys) {
                Set<String> values = new LinkedHashSet<>();
                for (ModelVersion v : vs) values.add(String.valueOf(v.lineage().path("recipe").get(k)));
                boolean interesting = values.size() > 1 || List.of("learning_rate", "lora_r", "num_epochs", "adapter").contains(k);
                if (interesting) row(b, "recipe." + k, vs, v -> text(v.lineage().path("recipe").get(k)), true);
            }
            row(b, "train loss (final)", vs, v -> num(v.lineage().path("training").path("final").get("loss")), true);
            row(b, "val accuracy (best)", vs, v -> num(v.lineage().path("training").path("best").path("val_accuracy").get("value")), true);
            Set<String> metrics = new LinkedHashSet<>();
            for (ModelVersion v : vs) v.lineage().path("eval").path("metrics").fieldNames().forEachRemaining(metrics::add);
            for (String m : metrics) row(b, "eval " + m, vs, v -> num(v.lineage().path("eval").path("metrics").get(m)), true);
            row(b, "eval gate", vs, v -> {
                JsonNode g = v.lineage().path("eval").path("gate");
                return g.has("passed") ? (g.get("passed").asBoolean() ? "passed" : "failed") : "-";
            }, true);
            b.append("</table></div>");
        }
        if (!d.audit().isEmpty()) {
            b.append("<h3>Audit log (latest)</h3><table class=\"audit\"><tr><th>when</th><th>who</th><th>action</th><th>version</th><th>stage</th><th>why</th></tr>");
            List<AuditEntry> latest = d.audit().subList(Math.max(0, d.audit().size() - 20), d.audit().size());
            for (int i = latest.size() - 1; i >= 0; i--) {
                AuditEntry a = latest.get(i);
                b.append("<tr><td>").append(HtmlText.escape(a.at())).append("</td><td>").append(HtmlText.escape(a.who())).append("</td><td>").append(HtmlText.escape(a.action()))
                        .append("</td><td>").append(HtmlText.escape(a.name() + ":" + a.version())).append("</td><td>")
                        .append(HtmlText.escape(Objects.toString(a.fromStage(), "-") + " → " + Objects.toString(a.toStage(), "-"))).append("</td><td>")
                        .append(HtmlText.escape(a.reason())).append(a.details() != null && a.details().path("forced").asBoolean() ? " <b>(forced)</b>" : "")
                        .append("</td></tr>");
            }
            b.append("</table>");
        }
        b.append("</section>");
    }

    private interface Cell {
        String of(ModelVersion v);
    }

    private static void row(StringBuilder b, String label, List<ModelVersion> vs, Cell cell, boolean escape) {
        b.append("<tr><th>").append(HtmlText.escape(label)).append("</th>");
        for (ModelVersion v : vs) {
            String c = cell.of(v);
            b.append("<td>").append(escape ? HtmlText.escape(c) : c).append("</td>");
        }
        b.append("</tr>");
    }

    private static void traffic(StringBuilder b, ObjectNode t) {
        b.append("<section id=\"traffic\"><h2>Traffic</h2>");
        if (t == null) {
            b.append("<p class=\"muted\">no request log given (--log-db)</p></section>");
            return;
        }
        b.append("<p class=\"muted\">").append(HtmlText.escape(t.path("from").asText())).append(" – ").append(HtmlText.escape(t.path("until").asText())).append("</p>");
        b.append("<table class=\"traffic\"><tr><th>version | adapter</th><th>requests</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>TTFT p50 ms</th>"
                + "<th>errors</th><th>rejected</th><th>refusals</th><th>prompt tok</th><th>completion tok</th><th>tok/s</th></tr>");
        for (var e : t.path("groups").properties()) {
            JsonNode g = e.getValue();
            b.append("<tr><td>").append(HtmlText.escape(e.getKey())).append("</td><td>").append(g.path("requests").asInt()).append("</td>");
            for (String k : List.of("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "ttft_p50_ms", "error_rate", "rejected_rate", "refusal_rate")) {
                b.append("<td>").append(k.endsWith("_rate") ? pct(g.get(k)) : num(g.get(k))).append("</td>");
            }
            b.append("<td>").append(g.path("prompt_tokens").asLong()).append("</td><td>").append(g.path("completion_tokens").asLong()).append("</td><td>")
                    .append(num(g.get("tokens_per_second"))).append("</td></tr>");
        }
        b.append("</table>");
        JsonNode series = t.path("series");
        int n = series.size();
        double[] req = new double[n], p50 = new double[n], p95 = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode s = series.get(i);
            req[i] = s.path("requests").asDouble();
            p50[i] = s.path("latency_p50_ms").isNumber() ? s.get("latency_p50_ms").asDouble() : Double.NaN;
            p95[i] = s.path("latency_p95_ms").isNumber() ? s.get("latency_p95_ms").asDouble() : Double.NaN;
        }
        String first = n == 0 ? "" : series.get(0).path("start").asText(), last = n == 0 ? "" : series.get(n - 1).path("start").asText();
        b.append("<div class=\"charts\">").append(Svg.bars("chart-requests", "requests per interval", req, first, last))
                .append(Svg.lines("chart-latency", "latency (ms)", List.of(new Svg.Line("p50", "p50", p50), new Svg.Line("p95", "p95", p95)), first, last))
                .append("</div>");
        checks(b, t.path("checks"));
        b.append("</section>");
    }

    private static void drift(StringBuilder b, List<ObjectNode> reports) {
        b.append("<section id=\"drift\"><h2>Drift</h2>");
        if (reports.isEmpty()) b.append("<p class=\"muted\">no drift report given (jtune monitor drift --out FILE, then --drift-report FILE)</p>");
        for (ObjectNode r : reports) {
            b.append("<div class=\"panel ").append(r.path("alert").asBoolean() ? "alert" : "ok").append("\"><h3>")
                    .append(r.path("alert").asBoolean() ? "ALERT" : "no alert").append(" — ").append(r.path("traffic_prompts").asInt())
                    .append(" prompts vs ").append(r.path("reference_prompts").asInt()).append(" reference prompts</h3><p class=\"muted\">")
                    .append(HtmlText.escape(r.path("reference").asText())).append(" · ").append(HtmlText.escape(r.path("tokens").asText())).append(" · ")
                    .append(HtmlText.escape(r.path("from").asText(""))).append(" – ").append(HtmlText.escape(r.path("until").asText(""))).append("</p>");
            JsonNode len = r.path("length");
            if (len.isObject()) {
                b.append("<p>prompt length (tokens): reference mean ").append(num(len.path("reference").get("mean"))).append(", p95 ")
                        .append(num(len.path("reference").get("p95"))).append(" · traffic mean ").append(num(len.path("traffic").get("mean")))
                        .append(", p95 ").append(num(len.path("traffic").get("p95"))).append("</p>");
            }
            JsonNode labels = r.path("labels");
            if (labels.isObject()) {
                b.append("<table class=\"labels\"><tr><th>label</th><th>validation</th><th>predicted</th></tr>");
                Set<String> keys = new LinkedHashSet<>();
                labels.path("validation").fieldNames().forEachRemaining(keys::add);
                labels.path("predicted").fieldNames().forEachRemaining(keys::add);
                for (String k : keys) {
                    b.append("<tr><td>").append(HtmlText.escape(k)).append("</td><td>").append(labels.path("validation").path(k).asLong()).append("</td><td>")
                            .append(labels.path("predicted").path(k).asLong()).append("</td></tr>");
                }
                b.append("</table>");
            }
            checks(b, r.path("checks"));
            b.append("</div>");
        }
        b.append("</section>");
    }

    private static void checks(StringBuilder b, JsonNode checks) {
        if (!checks.isArray() || checks.isEmpty()) return;
        b.append("<table class=\"checks\"><tr><th>check</th><th>scope</th><th>value</th><th>threshold</th><th></th></tr>");
        for (JsonNode c : checks) {
            boolean alert = c.path("alert").asBoolean();
            b.append("<tr class=\"").append(alert ? "alert" : "ok").append("\"><td>").append(HtmlText.escape(c.path("name").asText())).append("</td><td>")
                    .append(HtmlText.escape(c.path("scope").asText())).append("</td><td>").append(num(c.get("value"))).append("</td><td>")
                    .append(c.path("alert_when").asText()).append(' ').append(num(c.get("threshold"))).append("</td><td>").append(alert ? "ALERT" : "ok")
                    .append("</td></tr>");
        }
        b.append("</table>");
    }

    private static void feedback(StringBuilder b, List<RequestLog.Feedback> fb) {
        b.append("<section id=\"feedback\"><h2>Feedback queue</h2>");
        if (fb.isEmpty()) {
            b.append("<p class=\"muted\">no feedback in the window</p></section>");
            return;
        }
        b.append("<p class=\"muted\">").append(fb.size()).append(" latest; export with jtune data from-feedback</p>");
        b.append("<table class=\"feedback\"><tr><th>when</th><th>version</th><th>rating</th><th>prompt</th><th>model answer</th><th>correction</th><th>comment</th></tr>");
        for (RequestLog.Feedback f : fb) {
            var r = f.request();
            String prompt = r == null ? "(request not in the log)" : org.jtune.serve.monitor.PromptText.ofRequest(r.requestJson());
            b.append("<tr><td>").append(HtmlText.escape(f.createdAt())).append("</td><td>").append(HtmlText.escape(r == null ? "" : r.modelVersion())).append("</td><td>")
                    .append(f.rating() == null ? "" : num(f.rating())).append("</td><td>").append(HtmlText.escape(clip(prompt))).append("</td><td>")
                    .append(HtmlText.escape(clip(r == null ? null : r.outputText()))).append("</td><td>").append(HtmlText.escape(clip(f.correction()))).append("</td><td>")
                    .append(HtmlText.escape(clip(f.comment()))).append("</td></tr>");
        }
        b.append("</table></section>");
    }

    private static String clip(String s) {
        if (s == null) return "";
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }

    private static String short12(String sha) {
        return sha == null ? "-" : sha.substring(0, Math.min(12, sha.length()));
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "-" : n.isValueNode() ? n.asText() : n.toString();
    }

    static String num(JsonNode n) {
        return n == null || !n.isNumber() ? "-" : num(n.asDouble());
    }

    static String num(double v) {
        return Svg.fmt(v);
    }

    static String pct(JsonNode n) {
        return n == null || !n.isNumber() ? "-" : String.format(java.util.Locale.ROOT, "%.1f%%", 100 * n.asDouble());
    }

    private static final String CSS = """
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 40px;color:#1d2430;background:#fafbfc}
            header{display:flex;align-items:baseline;gap:16px;border-bottom:1px solid #d8dde4;margin-bottom:8px}
            h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #e4e8ee}h3{font-size:15px;margin:14px 0 6px}
            table{border-collapse:collapse;margin:6px 0 12px;background:#fff}td,th{border:1px solid #e1e5ea;padding:3px 8px;text-align:left;vertical-align:top}
            th{background:#f1f3f6;font-weight:600}.muted{color:#6a7482}.scroll{overflow-x:auto}
            .badge{padding:1px 8px;border-radius:9px;font-size:12px;color:#fff;background:#8792a2}.badge.production{background:#1f883d}
            .badge.staging{background:#bf8700}.badge.candidate{background:#0969da}.badge.archived{background:#8792a2}
            th.stage-production{background:#dafbe1}.problem{color:#b42318;font-weight:600}
            tr.alert td{background:#ffebe9}tr.ok td:last-child{color:#1f883d}tr.alert td:last-child{color:#b42318;font-weight:700}
            .panel{border:1px solid #d8dde4;border-radius:6px;padding:4px 12px;margin:8px 0;background:#fff}.panel.alert{border-color:#f0a39a}
            .charts{display:flex;flex-wrap:wrap;gap:16px}.chart{background:#fff;border:1px solid #e1e5ea}
            .chart .bar{fill:#54aeff}.chart .axis{stroke:#8792a2}.chart .tick,.chart .legend{font-size:10px;fill:#6a7482}.chart .title{font-size:11px;font-weight:600}
            .chart path{fill:none;stroke-width:2}.chart path.p50{stroke:#0969da}.chart path.p95{stroke:#cf222e}.legend.p50{fill:#0969da}.legend.p95{fill:#cf222e}
            """;
}
