package org.jtune.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/** The data check on the real banking15 dataset (../shared): no errors, 15 labels matching stats.json. */
class Banking15DataCheckTest {

    @Test
    void trainAndValidationPassWithFifteenLabels() throws Exception {
        Path dir = SharedData.require("data/banking15");
        JsonNode stats = new ObjectMapper().readTree(Files.readString(dir.resolve("stats.json")));
        DataCheckReport report = DataCheck.run(DataCheckOptions.builder(dir.resolve("train.jsonl"))
                .validation(dir.resolve("validation.jsonl")).sequenceLength(512).build());

        assertTrue(report.passed(), () -> DataCheckText.render(report, 20));
        assertEquals(0, report.issues().errorCount());
        FileReport train = report.files().get(0);
        FileReport validation = report.files().get(1);
        assertEquals(DatasetFormat.CHAT, train.format());
        assertEquals(stats.path("totals").path("train").asLong(), train.examples());
        assertEquals(stats.path("totals").path("validation").asLong(), validation.examples());
        assertEquals(3 * train.examples(), train.messages());
        assertEquals(train.examples(), train.assistantTurns());

        LabelDistribution labels = train.labels().orElseThrow();
        assertEquals(15, labels.labels());
        assertEquals(counts(stats.path("counts").path("train")), labels.counts());
        assertEquals(168.0 / 147, labels.imbalanceRatio(), 1e-12);   // card payment fee charged / wrong exchange rate for cash withdrawal
        assertEquals(counts(stats.path("counts").path("validation")), validation.labels().orElseThrow().counts());

        assertEquals(1, train.systemPrompts().distinct());
        assertEquals(0, train.systemPrompts().withoutSystemPrompt());
        assertEquals(0, train.tokens().overSequenceLength());
        assertTrue(train.tokens().distribution().min() > 0);
        assertEquals(0, report.issues().count(IssueKind.LABEL_NOT_IN_TRAIN));
        assertEquals(0, report.issues().count(IssueKind.LABEL_IMBALANCE));
    }

    @Test
    void testSplitPassesToo() throws Exception {
        Path test = SharedData.require("data/banking15/test.jsonl");
        DataCheckReport report = DataCheck.run(test);
        assertTrue(report.passed(), () -> DataCheckText.render(report, 20));
        assertEquals(600, report.files().getFirst().examples());
        assertEquals(15, report.files().getFirst().labels().orElseThrow().labels());
        assertEquals(1.0, report.files().getFirst().labels().orElseThrow().imbalanceRatio());
    }

    private static Map<String, Long> counts(JsonNode object) {
        Map<String, Long> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            var e = it.next();
            out.put(e.getKey(), e.getValue().asLong());
        }
        return out;
    }
}
