package org.jtune.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * Reads a predictions JSONL file: one object per line with {@code reference} and {@code prediction}
 * (strings; for extraction either may also be a JSON object or array, kept as its JSON text), and optional
 * {@code id}, {@code input}, {@code label_set} (array of strings) and {@code required_fields} (array of
 * strings). Blank lines are skipped. A line without an id gets its 0-based ordinal among the records, so
 * two files without ids are matched by position.
 *
 * <p>Every problem is a {@link JtuneException} that names file:line: bad JSON, a line that is not an object,
 * a missing or null field, a field of the wrong type, a repeated id, a file with no records.
 */
public final class PredictionFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionFile() {
    }

    public static List<Prediction> read(Path file) throws JtuneException {
        if (!Files.isRegularFile(file)) throw new JtuneException(file + ": no such file");
        List<Prediction> out = new ArrayList<>();
        Map<String, Integer> idLines = new HashMap<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String where = file + ":" + lineNo;
                Prediction p = parse(line, where, out.size());
                Integer earlier = idLines.putIfAbsent(p.id(), lineNo);
                if (earlier != null) {
                    throw new JtuneException(where + ": id '" + p.id() + "' already used on line " + earlier
                            + "; ids must be unique so that a baseline can be matched example by example");
                }
                out.add(p);
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new JtuneException(file + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new JtuneException(file + ": no predictions (the file is empty)");
        return out;
    }

    /** Parses one JSONL line; {@code ordinal} becomes the id when the line has none. */
    public static Prediction parse(String line, String where, int ordinal) throws JtuneException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new JtuneException(where + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new JtuneException(where + ": expected a JSON object with \"reference\" and \"prediction\"");
        }
        String reference = textOrJson(node, "reference", where);
        String prediction = textOrJson(node, "prediction", where);
        String id = optionalScalar(node, "id", where);
        String input = optionalScalar(node, "input", where);
        return new Prediction(id == null ? String.valueOf(ordinal) : id, input, reference, prediction,
                stringList(node, "label_set", where), stringList(node, "required_fields", where), where);
    }

    private static String textOrJson(JsonNode node, String field, String where) throws JtuneException {
        JsonNode v = node.get(field);
        if (v == null) throw new JtuneException(where + ": missing field \"" + field + "\"");
        if (v.isNull()) throw new JtuneException(where + ": field \"" + field + "\" is null");
        if (v.isTextual()) return v.asText();
        if (v.isContainerNode()) return v.toString();
        if (v.isValueNode()) return v.asText();
        throw new JtuneException(where + ": field \"" + field + "\" must be a string");
    }

    private static String optionalScalar(JsonNode node, String field, String where) throws JtuneException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return null;
        if (v.isContainerNode()) throw new JtuneException(where + ": field \"" + field + "\" must be a string");
        return v.asText();
    }

    private static List<String> stringList(JsonNode node, String field, String where) throws JtuneException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new JtuneException(where + ": field \"" + field + "\" must be an array of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new JtuneException(where + ": field \"" + field + "\" must hold only strings, found " + e);
            }
            out.add(e.asText());
        }
        return out;
    }

    /** Reads a label file: one label per line, blank lines and lines starting with '#' ignored. */
    public static List<String> readLabels(Path file) throws JtuneException {
        try {
            List<String> out = new ArrayList<>();
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String t = l.strip();
                if (!t.isEmpty() && !t.startsWith("#")) out.add(t);
            }
            if (out.isEmpty()) throw new JtuneException(file + ": no labels (one label per line expected)");
            return out;
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read labels: " + e.getMessage(), e);
        }
    }
}
