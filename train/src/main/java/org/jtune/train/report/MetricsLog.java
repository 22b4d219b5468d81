package org.jtune.train.report;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * metrics.jsonl: one JSON object per line, {"step", "epoch", "elapsed", then the row's values},
 * each line flushed as it is written so a crash loses at most the line being written. NaN and
 * infinities are written as the strings "NaN", "Infinity", "-Infinity". Reading skips a final
 * partial line (a crash mid-write); a malformed line elsewhere is an error naming file and line.
 */
public final class MetricsLog implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Starts a new log (replacing any old one). */
    public static MetricsLog create(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    /**
     * Continues the log of a run resumed from {@code step}: rows after that step (written after the
     * checkpoint, before the interruption) are dropped, so the curve is not logged twice.
     */
    public static MetricsLog resume(Path file, long step) throws IOException, JtuneException {
        if (Files.exists(file)) {
            List<MetricsRow> keep = read(file).stream().filter(r -> r.step() <= step).toList();
            AtomicFile.write(file, o -> {
                for (MetricsRow r : keep) o.write((toJson(r) + "\n").getBytes(StandardCharsets.UTF_8));
            });
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    public Path file() {
        return file;
    }

    /** Appends a row and flushes it. */
    public synchronized void log(MetricsRow row) throws IOException {
        out.write(toJson(row));
        out.write('\n');
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    static String toJson(MetricsRow r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", r.step());
        number(o, "epoch", r.epoch());
        number(o, "elapsed", r.elapsed());
        r.values().forEach((k, v) -> number(o, k, v));
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void number(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) o.put(k, v);
        else o.put(k, Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }

    /** All rows of a metrics.jsonl file, in file order. */
    public static List<MetricsRow> read(Path file) throws IOException, JtuneException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<MetricsRow> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            try {
                rows.add(parse(JSON.readTree(line)));
            } catch (JsonProcessingException | IllegalArgumentException e) {
                if (i == lines.size() - 1) break; // the line being written when the run stopped
                throw new JtuneException(file + " line " + (i + 1) + ": not a metrics row: "
                        + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
            }
        }
        return rows;
    }

    private static MetricsRow parse(JsonNode o) {
        if (o == null || !o.isObject()) throw new IllegalArgumentException("expected a JSON object");
        if (!o.path("step").canConvertToExactIntegral()) throw new IllegalArgumentException("missing whole-number 'step'");
        Map<String, Double> values = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            var e = it.next();
            if (MetricsRow.FIXED.contains(e.getKey())) continue;
            values.put(e.getKey(), value(e.getKey(), e.getValue()));
        }
        return new MetricsRow(o.get("step").longValue(), o.has("epoch") ? value("epoch", o.get("epoch")) : Double.NaN,
                o.has("elapsed") ? value("elapsed", o.get("elapsed")) : Double.NaN, values);
    }

    private static double value(String key, JsonNode n) {
        if (n.isNumber()) return n.doubleValue();
        if (n.isTextual()) {
            switch (n.asText()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw new IllegalArgumentException("'" + key + "' must be a number, got " + n);
    }
}
