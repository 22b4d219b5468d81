package org.jtune.train.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
    private static List<MetricsRow> rows() {
        List<MetricsRow> rows = new ArrayList<>();
        for (int s = 10; s <= 100; s += 10) {
            MetricsRow r = MetricsRow.at(s, s / 50.0, s * 3).with("loss", 3.0 - s / 50.0).with("lr", 1e-4 * s / 100).with("tokens_per_s", 1000 + s);
            if (s % 50 == 0) r = r.with("val_loss", s == 50 ? 1.5 : 1.7);
            rows.add(r);
        }
        return rows;
    }

    @Test
    void summaryFromMetrics() {
        Map<String, String> s = RunReport.summary(rows());
        assertEquals("100", s.get("steps"));
        assertEquals("2.00", s.get("epochs"));
        assertEquals("1.0000 (step 100)", s.get("final train loss"));
        assertEquals("1.7000 (step 100)", s.get("final validation loss"));
        assertEquals("1.5000 (step 50)", s.get("best validation loss"));
        assertEquals("5m00s", s.get("training time"));
        assertEquals("1,055 tokens/s", s.get("mean throughput")); // mean of 1010..1100
    }

    @Test
    void selfContainedHtmlWithChartsAndEscapedInfo(@TempDir Path dir) throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(metrics)) {
            for (MetricsRow r : rows()) log.log(r);
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("base model", "/models/<smol>");
        Path out = dir.resolve("report.html");
        RunReport.write(metrics, out, "banking & co", info);
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<h1>banking &amp; co</h1>"));
        assertTrue(html.contains("<tr><th>base model</th><td>/models/&lt;smol&gt;</td></tr>"));
        assertTrue(html.contains("<tr><th>best validation loss</th><td>1.5000 (step 50)</td></tr>"));
        assertEquals(2, count(html, "<svg "), "loss, lr; no grad-norm chart without grad_norm");
        assertEquals(3, count(html, "<polyline "), "train loss, validation loss, lr");
        assertFalse(html.contains("<script") || html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"),
                "no scripts, nothing fetched");
    }

    @Test
    void chartPointsMapStepsAndValuesToThePlotArea() {
        String svg = SvgLineChart.render("t", "step", "y", List.of(new SvgLineChart.Series("a", "#000",
                new double[] {0, 50, 100}, new double[] {0, 1, 2})));
        // plot area x 70..700, y 30..255; y ticks 0..2 fill it
        assertTrue(svg.contains("points=\"70.0,255.0 385.0,142.5 700.0,30.0\""), svg);
    }

    @Test
    void nonFiniteValuesBreakTheLine() {
        String svg = SvgLineChart.render("t", "x", "y", List.of(new SvgLineChart.Series("a", "#000",
                new double[] {1, 2, 3, 4, 5}, new double[] {1, 2, Double.NaN, 3, 4})));
        assertEquals(2, count(svg, "<polyline "));
        assertTrue(SvgLineChart.render("t", "x", "y", List.of()).contains("no data"));
        String dot = SvgLineChart.render("t", "x", "y", List.of(new SvgLineChart.Series("a", "#000", new double[] {1}, new double[] {1})));
        assertEquals(1, count(dot, "<circle "));
    }

    @Test
    void niceTicks() {
        assertArrayEquals(new double[] {0, 1, 2, 3}, SvgLineChart.ticks(0.1, 2.9, 5), 1e-12);
        assertArrayEquals(new double[] {0, 20, 40, 60, 80, 100, 120}, SvgLineChart.ticks(3, 117, 8), 1e-12);
        assertEquals("2.0e-04", SvgLineChart.label(2e-4));
        assertEquals("0.25", SvgLineChart.label(0.25));
    }

    private static int count(String s, String sub) {
        return (int) Pattern.compile(Pattern.quote(sub)).matcher(s).results().count();
    }
}
