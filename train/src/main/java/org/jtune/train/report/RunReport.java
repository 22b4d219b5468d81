package org.jtune.train.report;

import org.jtune.io.HtmlText;
import org.jtune.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * report.html of a run: one self-contained page (inline CSS and SVG, no scripts, nothing fetched)
 * with a summary table — what the caller passes (model, recipe settings) followed by what the
 * metrics say (steps, final and best losses, time, throughput) — and charts of train and
 * validation loss, learning rate, and gradient norm against the step.
 */
public final class RunReport {
    private RunReport() {}

    /** Reads metrics.jsonl and writes the report to {@code out} atomically. */
    public static void write(Path metricsJsonl, Path out, String title, Map<String, String> runInfo) throws IOException, JtuneException {
        String html = html(MetricsLog.read(metricsJsonl), title, runInfo);
        AtomicFile.writeString(out, html);
    }

    /** Summary figures derived from the metrics, in display order. */
    public static Map<String, String> summary(List<MetricsRow> rows) {
        Map<String, String> s = new LinkedHashMap<>();
        if (rows.isEmpty()) {
            s.put("metrics", "none logged");
            return s;
        }
        MetricsRow last = rows.getLast();
        s.put("steps", Long.toString(last.step()));
        if (Double.isFinite(last.epoch())) s.put("epochs", fmt(last.epoch(), 2));
        MetricsRow lastLoss = lastWith(rows, MetricsRow.LOSS);
        if (lastLoss != null) s.put("final train loss", fmt(lastLoss.get(MetricsRow.LOSS), 4) + " (step " + lastLoss.step() + ")");
        MetricsRow lastVal = lastWith(rows, MetricsRow.VAL_LOSS);
        if (lastVal != null) {
            s.put("final validation loss", fmt(lastVal.get(MetricsRow.VAL_LOSS), 4) + " (step " + lastVal.step() + ")");
            MetricsRow best = null;
            for (MetricsRow r : rows) {
                if (r.has(MetricsRow.VAL_LOSS) && Double.isFinite(r.get(MetricsRow.VAL_LOSS))
                        && (best == null || r.get(MetricsRow.VAL_LOSS) < best.get(MetricsRow.VAL_LOSS))) best = r;
            }
            if (best != null) s.put("best validation loss", fmt(best.get(MetricsRow.VAL_LOSS), 4) + " (step " + best.step() + ")");
        }
        if (Double.isFinite(last.elapsed())) s.put("training time", ProgressBar.duration(last.elapsed()));
        double sum = 0;
        int n = 0;
        for (MetricsRow r : rows) {
            if (r.has(MetricsRow.TOKENS_PER_S) && Double.isFinite(r.get(MetricsRow.TOKENS_PER_S))) {
                sum += r.get(MetricsRow.TOKENS_PER_S);
                n++;
            }
        }
        if (n > 0) s.put("mean throughput", String.format(Locale.ROOT, "%,.0f tokens/s", sum / n));
        return s;
    }

    public static String html(List<MetricsRow> rows, String title, Map<String, String> runInfo) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(HtmlText.escape(title)).append("</title>\n");
        h.append("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:780px}"
                + "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}"
                + "th{background:#f5f5f5;font-weight:600}figure{margin:0 0 1.5em 0}pre{margin:0;white-space:pre-wrap}</style></head><body>\n");
        h.append("<h1>").append(HtmlText.escape(title)).append("</h1>\n<table>\n");
        Map<String, String> all = new LinkedHashMap<>(runInfo);
        summary(rows).forEach(all::putIfAbsent);
        for (var e : all.entrySet()) {
            h.append("<tr><th>").append(HtmlText.escape(e.getKey())).append("</th><td>").append(HtmlText.escape(e.getValue())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        List<SvgLineChart.Series> loss = new ArrayList<>();
        addSeries(loss, rows, MetricsRow.LOSS, "train", "#1f77b4");
        addSeries(loss, rows, MetricsRow.VAL_LOSS, "validation", "#d62728");
        figure(h, SvgLineChart.render("Loss", "step", "loss", loss));
        List<SvgLineChart.Series> lr = new ArrayList<>();
        addSeries(lr, rows, MetricsRow.LR, "learning rate", "#2ca02c");
        figure(h, SvgLineChart.render("Learning rate", "step", "lr", lr));
        List<SvgLineChart.Series> norm = new ArrayList<>();
        addSeries(norm, rows, MetricsRow.GRAD_NORM, "grad norm (before clipping)", "#9467bd");
        if (!norm.isEmpty()) figure(h, SvgLineChart.render("Gradient norm", "step", "norm", norm));
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void figure(StringBuilder h, String svg) {
        h.append("<figure>").append(svg).append("</figure>\n");
    }

    private static void addSeries(List<SvgLineChart.Series> out, List<MetricsRow> rows, String key, String name, String color) {
        List<MetricsRow> with = rows.stream().filter(r -> r.has(key)).toList();
        if (with.isEmpty()) return;
        double[] x = new double[with.size()], y = new double[with.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = with.get(i).step();
            y[i] = with.get(i).get(key);
        }
        out.add(new SvgLineChart.Series(name, color, x, y));
    }

    private static MetricsRow lastWith(List<MetricsRow> rows, String key) {
        for (int i = rows.size() - 1; i >= 0; i--) if (rows.get(i).has(key)) return rows.get(i);
        return null;
    }

    private static String fmt(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : Double.toString(v);
    }
}
