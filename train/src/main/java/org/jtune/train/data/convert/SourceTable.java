package org.jtune.train.data.convert;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * A source file read as records with named fields: CSV/TSV (the first record is the header unless
 * there is none; columns are then named 1, 2, ...), a JSON array of objects, or JSON Lines. The
 * kind comes from the extension (.csv, .tsv/.tab, .json, .jsonl/.ndjson) or, for other names, from
 * the first character ('[' a JSON array, '{' JSON Lines, else delimited text). The encoding is
 * detected by {@link TextEncoding}, the delimiter by {@link CsvDialect}. Records that cannot be read
 * are kept as broken rows with their line; a JSON array that is not valid JSON cannot be read past
 * the fault and fails as a whole.
 *
 * @param columns the header's names for delimited text; for JSON, the keys of the first record
 * @param dialect the delimiter for delimited text, null for JSON
 */
public record SourceTable(Path file, Kind kind, TextEncoding.Decoded encoding, CsvDialect dialect,
                          List<String> columns, List<SourceRow> rows, long blankLines) {
    public enum Kind {
        CSV, JSON, JSONL;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    public SourceTable {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /**
     * Reads {@code file}.
     *
     * @param kind      the kind, or null to decide from the name and content
     * @param encoding  a charset name, or null to detect
     * @param delimiter the delimiter of delimited text, or null to detect
     * @param header    whether delimited text starts with a header record
     */
    public static SourceTable read(Path file, Kind kind, String encoding, Character delimiter, boolean header)
            throws JtuneException {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) throw new JtuneException(file + ": is a directory, expected a file");
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new JtuneException(file + ": no such file");
        } catch (IOException | OutOfMemoryError e) {
            throw new JtuneException(file + ": cannot read: " + e.getMessage(), e);
        }
        TextEncoding.Decoded decoded = encoding == null ? TextEncoding.detect(bytes, file.toString())
                : TextEncoding.named(bytes, encoding, file.toString());
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        Kind k = kind != null ? kind : kindOf(name, decoded.text());
        return switch (k) {
            case CSV -> delimited(file, decoded, delimiter != null ? CsvDialect.given(delimiter)
                    : CsvDialect.detect(decoded.text(), name.endsWith(".tsv") || name.endsWith(".tab")), header);
            case JSON -> jsonArray(file, decoded);
            case JSONL -> jsonLines(file, decoded);
        };
    }

    private static Kind kindOf(String name, String text) {
        if (name.endsWith(".csv") || name.endsWith(".tsv") || name.endsWith(".tab")) return Kind.CSV;
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return Kind.JSONL;
        char first = firstNonSpace(text);
        if (name.endsWith(".json")) return first == '{' ? Kind.JSONL : Kind.JSON;
        if (first == '[') return Kind.JSON;
        if (first == '{') return Kind.JSONL;
        return Kind.CSV;
    }

    private static char firstNonSpace(String text) {
        for (int i = 0; i < text.length(); i++) if (!Character.isWhitespace(text.charAt(i))) return text.charAt(i);
        return 0;
    }

    // ---------------------------------------------------------------- delimited text

    private static SourceTable delimited(Path file, TextEncoding.Decoded decoded, CsvDialect dialect, boolean header)
            throws JtuneException {
        CsvParser parser = new CsvParser(decoded.text(), dialect.delimiter())
                .startingAt(dialect.skipOffset(), 1 + dialect.skipLines());
        List<String> columns = new ArrayList<>();
        List<SourceRow> rows = new ArrayList<>();
        CsvParser.Record first = parser.next();
        if (first == null) throw new JtuneException(file + ": the file holds no records");
        if (header) {
            if (!first.ok()) throw new JtuneException(file + ":" + first.line() + ": the header cannot be read: " + first.error());
            for (String c : first.fields()) columns.add(c.strip());
        } else {
            int width = first.ok() ? first.fields().size() : 1;
            for (int i = 1; i <= width; i++) columns.add(Integer.toString(i));
            rows.add(row(first, columns));
        }
        CsvParser.Record r;
        while ((r = parser.next()) != null) rows.add(row(r, columns));
        return new SourceTable(file, Kind.CSV, decoded, dialect, columns, rows, parser.blankLines());
    }

    private static SourceRow row(CsvParser.Record r, List<String> columns) {
        if (!r.ok()) return SourceRow.broken(r.line(), r.error());
        if (r.fields().size() != columns.size()) {
            return SourceRow.broken(r.line(), "has " + r.fields().size() + " field" + (r.fields().size() == 1 ? "" : "s")
                    + ", the header has " + columns.size() + " (an unquoted delimiter inside a value, or a missing one?)");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) fields.putIfAbsent(columns.get(i), r.fields().get(i));
        return SourceRow.of(r.line(), fields, null);
    }

    // ---------------------------------------------------------------- JSON

    private static SourceTable jsonArray(Path file, TextEncoding.Decoded decoded) throws JtuneException {
        List<SourceRow> rows = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        long line = 1;
        try (JsonParser p = JSON.createParser(decoded.text())) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_ARRAY) {
                throw new JtuneException(file + ": expected a JSON array of objects (or one object per line, JSON Lines)");
            }
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) throw new JtuneException(file + ": the JSON array is never closed");
                line = p.currentTokenLocation().getLineNr();
                if (t == JsonToken.START_OBJECT) {
                    JsonNode node = JSON.readTree(p);
                    if (columns.isEmpty()) columns.addAll(keys(node));
                    rows.add(flatten(node, line));
                } else {
                    p.skipChildren();
                    rows.add(SourceRow.broken(line, "array element is " + type(t) + ", expected an object"));
                }
            }
        } catch (JsonProcessingException e) {
            long at = e.getLocation() != null ? e.getLocation().getLineNr() : line;
            throw new JtuneException(file + ":" + at + ": bad JSON (" + e.getOriginalMessage()
                    + "); a JSON array cannot be read past it, so nothing was converted");
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new SourceTable(file, Kind.JSON, decoded, null, columns, rows, 0);
    }

    private static SourceTable jsonLines(Path file, TextEncoding.Decoded decoded) {
        List<SourceRow> rows = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        long blank = 0;
        long number = 0;
        for (String text : decoded.text().split("\r\n|\n|\r", -1)) {
            number++;
            if (text.isBlank()) {
                blank++;
                continue;
            }
            try {
                JsonNode node = JSON.readTree(text);
                if (!node.isObject()) {
                    rows.add(SourceRow.broken(number, "expected a JSON object, found " + node.getNodeType().name().toLowerCase(Locale.ROOT)));
                    continue;
                }
                if (columns.isEmpty()) columns.addAll(keys(node));
                rows.add(flatten(node, number));
            } catch (JsonProcessingException e) {
                rows.add(SourceRow.broken(number, "bad JSON: " + e.getOriginalMessage()));
            }
        }
        if (decoded.text().endsWith("\n") || decoded.text().endsWith("\r")) blank--;   // the empty string after the last newline
        return new SourceTable(file, Kind.JSONL, decoded, null, columns, rows, Math.max(0, blank));
    }

    private static List<String> keys(JsonNode object) {
        List<String> keys = new ArrayList<>();
        object.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static SourceRow flatten(JsonNode object, long line) {
        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, String> notText = new HashMap<>();
        flatten(object, "", fields, notText);
        return SourceRow.of(line, fields, notText);
    }

    private static void flatten(JsonNode object, String prefix, Map<String, String> fields, Map<String, String> notText) {
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                notText.put(key, "an object");
                flatten(v, key + ".", fields, notText);
            } else if (v.isArray()) {
                notText.put(key, "an array");
            } else if (!v.isNull()) {
                fields.put(key, v.asText());
            }
        }
    }

    private static String type(JsonToken t) {
        return switch (t) {
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.name().toLowerCase(Locale.ROOT);
        };
    }
}
