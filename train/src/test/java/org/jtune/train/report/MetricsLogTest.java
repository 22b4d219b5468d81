package org.jtune.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @Test
    void linesAreWrittenAndFlushedOneByOne(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("run/metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(f)) {
            log.log(MetricsRow.at(10, 0.5, 12.25).with(MetricsRow.LOSS, 2.5).with(MetricsRow.LR, 1e-4).with(MetricsRow.GRAD_NORM, 0.75));
            // flushed before close: another reader sees the line now
            assertEquals(List.of("{\"step\":10,\"epoch\":0.5,\"elapsed\":12.25,\"loss\":2.5,\"lr\":1.0E-4,\"grad_norm\":0.75}"), Files.readAllLines(f));
            log.log(MetricsRow.at(20, 1.0, 30).with(MetricsRow.LOSS, Double.NaN).with(MetricsRow.VAL_LOSS, Double.POSITIVE_INFINITY));
        }
        List<MetricsRow> rows = MetricsLog.read(f);
        assertEquals(2, rows.size());
        assertEquals(MetricsRow.at(10, 0.5, 12.25).with("loss", 2.5).with("lr", 1e-4).with("grad_norm", 0.75), rows.get(0));
        assertTrue(Double.isNaN(rows.get(1).get(MetricsRow.LOSS)));
        assertEquals(Double.POSITIVE_INFINITY, rows.get(1).get(MetricsRow.VAL_LOSS));
        assertTrue(Files.readString(f).contains("\"loss\":\"NaN\""));
    }

    @Test
    void aPartialLastLineIsSkippedAndABadMiddleLineNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, "{\"step\":1,\"loss\":3}\n{\"step\":2,\"lo");
        assertEquals(1, MetricsLog.read(f).size());
        Files.writeString(f, "{\"step\":1,\"loss\":3}\nnot json\n{\"step\":3}\n");
        var e = assertThrows(JtuneException.class, () -> MetricsLog.read(f));
        assertTrue(e.getMessage().startsWith(f + " line 2: not a metrics row"), e.getMessage());
        Files.writeString(f, "{\"step\":1,\"loss\":\"high\"}\n{\"step\":3}\n");
        assertEquals(f + " line 1: not a metrics row: 'loss' must be a number, got \"high\"",
                assertThrows(JtuneException.class, () -> MetricsLog.read(f)).getMessage());
    }

    @Test
    void resumeDropsRowsAfterTheCheckpoint(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(f)) {
            for (int s = 1; s <= 5; s++) log.log(MetricsRow.at(s, 0, s).with("loss", 5 - s));
        }
        Files.writeString(f, "{\"step\":6,\"lo", StandardOpenOption.APPEND); // crashed mid-line
        try (MetricsLog log = MetricsLog.resume(f, 3)) {
            log.log(MetricsRow.at(4, 0, 40).with("loss", 0.5));
        }
        List<MetricsRow> rows = MetricsLog.read(f);
        assertEquals(List.of(1L, 2L, 3L, 4L), rows.stream().map(MetricsRow::step).toList());
        assertEquals(0.5, rows.get(3).get("loss"));
    }

    @Test
    void fixedNamesCannotBeValues() {
        assertThrows(IllegalArgumentException.class, () -> MetricsRow.at(1, 0, 0).with("step", 2));
    }
}
