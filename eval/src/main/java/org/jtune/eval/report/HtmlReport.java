package org.jtune.eval.report;

import org.jtune.io.HtmlText;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.eval.EvalResult;
import org.jtune.eval.classification.ClassScore;
import org.jtune.eval.classification.ClassificationReport;
import org.jtune.eval.compare.ClassDelta;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.GateResult;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.eval.compare.RuleOutcome;

/**
 * eval_report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with the
 * gate verdict, the metric table, for comparisons a forest plot of every delta with its bootstrap interval
 * and McNemar's p-value, and for classification per-class F1 bars (baseline beside candidate) and the
 * confusion matrix as a heatmap (rows true label, columns answer, last column invalid answers).
 */
public final class HtmlReport {
    private HtmlReport() {
    }

    public static String render(String title, EvalResult result, Comparison cmp, GateResult gate) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(HtmlText.escape(title)).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
                .append("th{background:#f3f3f3}td.l,th.l{text-align:left}.pass{color:#1a7f37;font-weight:bold}")
                .append(".fail{color:#c62828;font-weight:bold}svg text{font-size:11px;font-family:sans-serif}")
                .append("</style></head><body>\n");
        h.append("<h1>").append(HtmlText.escape(title)).append("</h1>\n<p>Task: <b>").append(result.task().id())
                .append("</b>, examples: <b>").append(result.size()).append("</b></p>\n");
        if (gate != null) gate(h, gate);
        metrics(h, result, cmp);
        if (cmp != null) forest(h, cmp);
        if (result.report() instanceof ClassificationReport cr) {
            classBars(h, cr, cmp);
            heatmap(h, cr);
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void gate(StringBuilder h, GateResult gate) {
        h.append("<h2>Gate: <span class=\"").append(gate.passed() ? "pass\">PASSED" : "fail\">FAILED")
                .append("</span></h2>\n<table><tr><th class=l>rule</th><th>status</th><th class=l>value</th></tr>\n");
        for (RuleOutcome r : gate.outcomes()) {
            h.append("<tr><td class=l>").append(HtmlText.escape(r.rule())).append("</td><td class=")
                    .append(r.passed() ? "pass" : "fail").append(">").append(r.status()).append("</td><td class=l>")
                    .append(HtmlText.escape(r.message())).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void metrics(StringBuilder h, EvalResult result, Comparison cmp) {
        h.append("<h2>Metrics</h2>\n<table><tr><th class=l>metric</th>");
        if (cmp != null) h.append("<th>baseline</th><th>candidate</th><th>delta</th><th>95% CI</th></tr>\n");
        else h.append("<th>value</th></tr>\n");
        for (Map.Entry<String, Double> e : result.metrics().entrySet()) {
            h.append("<tr><td class=l>").append(HtmlText.escape(e.getKey())).append("</td>");
            MetricDelta d = cmp == null ? null : cmp.delta(e.getKey());
            if (d != null) {
                h.append("<td>").append(f(d.baseline())).append("</td><td>").append(f(d.candidate()))
                        .append("</td><td>").append(signed(d.delta())).append("</td><td>[")
                        .append(signed(d.ciLow())).append(", ").append(signed(d.ciHigh())).append("]</td>");
            } else {
                h.append("<td>").append(f(e.getValue())).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        if (cmp != null) {
            h.append("<p>McNemar exact test (answers right in one system only): baseline only ")
                    .append(cmp.mcnemar().baselineOnly()).append(", candidate only ")
                    .append(cmp.mcnemar().candidateOnly()).append(", p = ").append(f(cmp.mcnemar().pValue()))
                    .append(". Intervals: paired bootstrap, ").append(cmp.resamples()).append(" resamples, seed ")
                    .append(cmp.seed()).append(".</p>\n");
        }
    }

    /** Deltas with their intervals, each metric on its own symmetric scale (values differ in range). */
    private static void forest(StringBuilder h, Comparison cmp) {
        List<MetricDelta> ds = cmp.deltas();
        int rowH = 22, left = 190, width = 420, height = ds.size() * rowH + 30;
        h.append("<h2>Deltas (candidate - baseline) with 95% intervals</h2>\n<p>Each row has its own scale (metrics differ in range); the vertical line is zero; green/red: the interval excludes zero.</p>\n<svg width=\"")
                .append(left + width + 140).append("\" height=\"").append(height).append("\" role=\"img\">\n");
        int zero = left + width / 2;
        h.append(line(zero, 5, zero, height - 20, "#999"));
        for (int i = 0; i < ds.size(); i++) {
            MetricDelta d = ds.get(i);
            double scale = Math.max(1e-12, Math.max(Math.abs(d.delta()),
                    Math.max(Math.abs(nz(d.ciLow())), Math.abs(nz(d.ciHigh())))) * 1.1);
            int y = 15 + i * rowH;
            String color = d.significant() ? (d.delta() > 0 ? "#1a7f37" : "#c62828") : "#555";
            h.append(text(left - 8, y + 4, "end", d.metric()));
            double x0 = zero + nz(d.ciLow()) / scale * (width / 2.0), x1 = zero + nz(d.ciHigh()) / scale * (width / 2.0);
            h.append(line((int) x0, y, (int) x1, y, color));
            h.append("<circle cx=\"").append((int) (zero + d.delta() / scale * (width / 2.0))).append("\" cy=\"").append(y)
                    .append("\" r=\"4\" fill=\"").append(color).append("\"/>\n");
            h.append(text(left + width + 8, y + 4, "start", signed(d.delta()) + " [" + signed(d.ciLow()) + ", "
                    + signed(d.ciHigh()) + "]"));
        }
        h.append("</svg>\n");
    }

    private static void classBars(StringBuilder h, ClassificationReport cr, Comparison cmp) {
        List<ClassScore> per = cr.perClass();
        int barW = 14, group = cmp == null ? 24 : 38, top = 20, plotH = 200;
        int width = Math.max(300, 60 + per.size() * group);
        h.append("<h2>Per-class F1</h2>\n<svg width=\"").append(width).append("\" height=\"").append(plotH + 140)
                .append("\" role=\"img\">\n");
        for (int t = 0; t <= 4; t++) {
            int y = top + plotH - t * plotH / 4;
            h.append(line(40, y, width - 10, y, "#eee")).append(text(35, y + 4, "end", f(t / 4.0)));
        }
        for (int i = 0; i < per.size(); i++) {
            int x = 50 + i * group;
            double cand = per.get(i).f1();
            if (cmp != null) {
                ClassDelta d = cmp.classes().get(i);
                h.append(bar(x, top, plotH, barW, d.baselineF1(), "#9e9e9e", "baseline " + d.label()));
                x += barW + 2;
            }
            h.append(bar(x, top, plotH, barW, cand, "#1e88e5", "candidate " + per.get(i).label()));
            h.append("<text transform=\"translate(").append(x + barW / 2).append(',').append(top + plotH + 8)
                    .append(") rotate(60)\">").append(HtmlText.escape(per.get(i).label())).append("</text>\n");
        }
        if (cmp != null) {
            h.append("<rect x=\"").append(width - 150).append("\" y=\"2\" width=\"10\" height=\"10\" fill=\"#9e9e9e\"/>")
                    .append(text(width - 136, 11, "start", "baseline"))
                    .append("<rect x=\"").append(width - 80).append("\" y=\"2\" width=\"10\" height=\"10\" fill=\"#1e88e5\"/>")
                    .append(text(width - 66, 11, "start", "candidate"));
        }
        h.append("</svg>\n");
    }

    private static void heatmap(StringBuilder h, ClassificationReport cr) {
        List<String> labels = cr.labels();
        int k = labels.size(), cell = Math.max(14, Math.min(40, 600 / Math.max(1, k + 1))), left = 150, top = 110;
        long max = 1;
        for (long[] row : cr.confusion()) for (long v : row) max = Math.max(max, v);
        h.append("<h2>Confusion matrix</h2>\n<p>Rows: true label; columns: answer; last column: invalid answers (")
                .append(cr.invalid()).append(", of which empty: ").append(cr.empty()).append(").</p>\n<svg width=\"")
                .append(left + (k + 1) * cell + 20).append("\" height=\"").append(top + k * cell + 20)
                .append("\" role=\"img\">\n");
        for (int j = 0; j <= k; j++) {
            String name = j < k ? labels.get(j) : "(invalid)";
            h.append("<text transform=\"translate(").append(left + j * cell + cell / 2 + 4).append(',').append(top - 4)
                    .append(") rotate(-60)\">").append(HtmlText.escape(name)).append("</text>\n");
        }
        for (int i = 0; i < k; i++) {
            h.append(text(left - 6, top + i * cell + cell / 2 + 4, "end", labels.get(i)));
            for (int j = 0; j <= k; j++) {
                long v = cr.confusion()[i][j];
                double a = (double) v / max;
                String fill = j == k ? String.format(Locale.ROOT, "rgba(198,40,40,%.3f)", a)
                        : String.format(Locale.ROOT, "rgba(30,136,229,%.3f)", a);
                h.append("<rect x=\"").append(left + j * cell).append("\" y=\"").append(top + i * cell)
                        .append("\" width=\"").append(cell).append("\" height=\"").append(cell).append("\" fill=\"")
                        .append(fill).append("\" stroke=\"#ddd\"><title>").append(HtmlText.escape(labels.get(i))).append(" → ")
                        .append(HtmlText.escape(j < k ? labels.get(j) : "(invalid)")).append(": ").append(v).append("</title></rect>\n");
                if (v > 0 && cell >= 20) {
                    h.append("<text x=\"").append(left + j * cell + cell / 2).append("\" y=\"").append(top + i * cell + cell / 2 + 4)
                            .append("\" text-anchor=\"middle\" fill=\"").append(a > 0.6 ? "#fff" : "#000").append("\">")
                            .append(v).append("</text>\n");
                }
            }
        }
        h.append("</svg>\n");
    }

    private static String bar(int x, int top, int plotH, int w, double v, String color, String title) {
        int bh = (int) Math.round(Math.max(0, Math.min(1, v)) * plotH);
        return "<rect x=\"" + x + "\" y=\"" + (top + plotH - bh) + "\" width=\"" + w + "\" height=\"" + bh + "\" fill=\""
                + color + "\"><title>" + HtmlText.escape(title) + ": " + f(v) + "</title></rect>\n";
    }

    private static String line(int x0, int y0, int x1, int y1, String color) {
        return "<line x1=\"" + x0 + "\" y1=\"" + y0 + "\" x2=\"" + x1 + "\" y2=\"" + y1 + "\" stroke=\"" + color
                + "\" stroke-width=\"2\"/>\n";
    }

    private static String text(int x, int y, String anchor, String s) {
        return "<text x=\"" + x + "\" y=\"" + y + "\" text-anchor=\"" + anchor + "\">" + HtmlText.escape(s) + "</text>\n";
    }

    private static double nz(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    static String f(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String signed(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%+.4f", v);
    }
}
