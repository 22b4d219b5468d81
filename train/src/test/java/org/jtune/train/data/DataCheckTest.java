package org.jtune.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole check over a train and a validation file, and its text and JSON renderings. */
class DataCheckTest {
    @TempDir
    Path dir;

    private static String chat(String user, String answer) {
        return "{\"messages\":[{\"role\":\"system\",\"content\":\"Classify.\"},{\"role\":\"user\",\"content\":\""
                + user + "\"},{\"role\":\"assistant\",\"content\":\"" + answer + "\"}]}\n";
    }

    private DataCheckReport check() throws Exception {
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 22; i++) train.append(chat("question number " + i, "common"));
        for (int i = 0; i < 2; i++) train.append(chat("rare question " + i, "rare"));
        train.append("{broken\n");                                        // line 25
        StringBuilder validation = new StringBuilder();
        validation.append(chat("Question number 3!", "common"));          // leaks train line 4
        validation.append(chat("something new", "unseen"));               // label never in train
        validation.append(chat("something else", "unseen"));
        validation.append(chat("and another", "common"));
        Path t = Files.writeString(dir.resolve("train.jsonl"), train);
        Path v = Files.writeString(dir.resolve("validation.jsonl"), validation);
        return DataCheck.run(DataCheckOptions.builder(t).validation(v).sequenceLength(7).build());
    }

    @Test
    void crossFileChecks() throws Exception {
        DataCheckReport r = check();
        assertFalse(r.passed());
        assertEquals(1, r.exitCode());
        assertEquals(1, r.issues().errorCount());
        assertEquals(1, r.files().get(0).errors());
        assertEquals(0, r.files().get(1).errors());
        assertEquals(24, r.files().get(0).examples());
        assertEquals(25, r.files().get(0).lines());

        assertEquals(new OverlapSummary(4, 1, 1), r.overlap().orElseThrow());
        assertEquals(1, r.issues().count(IssueKind.LABEL_IMBALANCE));     // 22 vs 2 > 10
        assertEquals(11.0, r.files().get(0).labels().orElseThrow().imbalanceRatio());
        assertEquals(1, r.issues().count(IssueKind.LABEL_NOT_IN_TRAIN));  // reported once, at its first line
        Issue unseen = r.issues().warnings().stream().filter(i -> i.kind() == IssueKind.LABEL_NOT_IN_TRAIN).findFirst().orElseThrow();
        assertEquals(2, unseen.line());
        assertEquals(dir.resolve("validation.jsonl"), unseen.file());
        // plain rendering: "system: Classify.\nuser: question number 12\nassistant: common\n" = 8 words > 7,
        // "system: Classify.\nuser: something new\nassistant: unseen\n" = 7 words, not over
        assertEquals(24, r.files().get(0).tokens().overSequenceLength());
        assertEquals(1, r.files().get(1).tokens().overSequenceLength());
        assertEquals(8, r.files().get(0).tokens().distribution().max());
    }

    @Test
    void textReportSeparatesErrorsFromWarnings() throws Exception {
        String text = DataCheckText.render(check(), 2);
        int errors = text.indexOf("\nErrors (1)\n");
        int warnings = text.indexOf("\nWarnings (");
        assertTrue(errors > 0 && warnings > errors, text);
        assertTrue(text.substring(errors, warnings).contains("train.jsonl:25: error: bad JSON at column 2"), text);
        assertFalse(text.substring(warnings).contains("error:"), text);
        assertTrue(text.contains("overlap: 1 of 4 validation inputs also occur in train (25.0%)"), text);
        assertTrue(text.contains("labels: 2 distinct, imbalance 11.00"), text);
        assertTrue(text.strip().endsWith("FAILED: 1 error, " + check().issues().warningCount() + " warnings"), text);
    }

    @Test
    void jsonReportIsCompleteAndCapped() throws Exception {
        DataCheckReport r = check();
        JsonNode json = new ObjectMapper().readTree(DataCheckJson.toJsonLine(r, 3));
        assertFalse(json.get("passed").asBoolean());
        assertEquals(r.issues().warningCount(), json.get("warnings").asLong());
        assertEquals(1, json.at("/issue_counts/bad_json").asLong());
        assertEquals(25, json.at("/issue_counts/over_sequence_length").asLong());
        assertEquals(2, json.get("files").size());
        assertEquals("train", json.at("/files/0/split").asText());
        assertEquals("chat", json.at("/files/0/format").asText());
        assertEquals(22, json.at("/files/0/labels/counts/common").asLong());
        assertEquals(1, json.at("/overlap/overlapping").asLong());
        List<String> severities = new ArrayList<>();
        json.get("issues").forEach(i -> severities.add(i.get("severity").asText()));
        assertEquals(List.of("error", "warning", "warning", "warning"), severities);   // errors first, 3 of each at most
        assertEquals(r.issues().errorCount() + r.issues().warningCount() - 4, json.get("issues_omitted").asLong());
        assertEquals(25, json.at("/issues/0/line").asLong());
    }
}
