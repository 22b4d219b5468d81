package org.jtune.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jtune.eval.Prediction;
import org.jtune.eval.classification.ClassificationEvaluator;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.Gate;
import org.jtune.eval.compare.GateResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path dir;

    @Test
    void writesSelfContainedHtmlAndMetricsJson() throws Exception {
        List<Prediction> base = List.of(Prediction.of("1", "", "<b>", "<b>"), Prediction.of("2", "", "x&y", "<b>"),
                Prediction.of("3", "", "x&y", "x&y"), Prediction.of("4", "", "<b>", "??"));
        List<Prediction> cand = List.of(Prediction.of("1", "", "<b>", "<b>"), Prediction.of("2", "", "x&y", "x&y"),
                Prediction.of("3", "", "x&y", "x&y"), Prediction.of("4", "", "<b>", "<b>"));
        Comparison cmp = Comparison.run(ClassificationEvaluator.fromExamples(), base, cand, 100, 1);
        Path g = dir.resolve("g.yaml");
        Files.writeString(g, "- accuracy >= 0.9\n");
        GateResult gate = Gate.load(g).evaluate(cmp.candidate(), cmp);
        Path out = dir.resolve("out");
        ReportWriter.write(out, "t <1>", cmp.candidate(), cmp, gate);
        String html = Files.readString(out.resolve(ReportWriter.REPORT));
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<svg") && html.contains("Confusion matrix") && html.contains("Per-class F1"));
        assertTrue(html.contains("&lt;b&gt;") && !html.contains("<b>\"") && html.contains("x&amp;y"));
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("<script"));
        JsonNode json = new ObjectMapper().readTree(out.resolve(ReportWriter.METRICS).toFile());
        assertEquals("classification", json.get("task").asText());
        assertEquals(1.0, json.get("metrics").get("accuracy").asDouble(), 0);
        assertEquals(0.5, json.get("comparison").get("baseline").get("accuracy").asDouble(), 0);
        assertTrue(json.get("gate").get("passed").asBoolean());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
        String line = MetricsJson.line(MetricsJson.of(cmp.candidate(), null, null));
        assertFalse(line.contains("\n"));
    }
}
