package org.jtune.train.data;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.jtune.JtuneException;

/**
 * Reads a JSONL dataset file into validated {@link Conversation}s. Every line is checked and every
 * problem is reported to the {@link IssueLog} with file:line (bad UTF-8, over-long line, blank line,
 * byte-order mark, bad JSON incl. duplicate keys and trailing garbage, a non-object, a line in another
 * format, and the per-format rules of {@link ExampleParser}); reading never stops at the first bad
 * line. The format is given explicitly or detected from the first object whose keys reveal it, and
 * every later line must be in the same format. Valid lines marked {@code "augmented": true} (rows
 * added by `jtune data augment` and a review) are counted.
 */
public final class DatasetReader {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final DatasetFormat explicitFormat;
    private final int maxLineBytes;

    /**
     * @param explicitFormat the format every line must have, or null to detect it
     * @param maxLineBytes   lines longer than this are errors and are not parsed
     */
    public DatasetReader(DatasetFormat explicitFormat, int maxLineBytes) {
        if (maxLineBytes < 1) throw new IllegalArgumentException("maxLineBytes must be >= 1");
        this.explicitFormat = explicitFormat;
        this.maxLineBytes = maxLineBytes;
    }

    /** A reader that detects the format and uses the default line limit. */
    public static DatasetReader detecting() {
        return new DatasetReader(null, JsonlLineReader.DEFAULT_MAX_LINE_BYTES);
    }

    /**
     * Reads and validates {@code file}, reporting issues to {@code log}.
     *
     * @throws JtuneException when the file cannot be read at all (missing, a directory, an I/O error)
     */
    public LoadedDataset read(Path file, IssueLog log) throws JtuneException {
        if (Files.isDirectory(file)) throw new JtuneException(file + ": is a directory, expected a JSONL file");
        var state = new State(file, log);
        try {
            new JsonlLineReader(maxLineBytes).read(file, state::accept);
        } catch (NoSuchFileException e) {
            throw new JtuneException(file + ": no such file");
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (state.examples.isEmpty()) {
            log.add(Issue.wholeFile(IssueKind.NO_EXAMPLES, file, state.lines == 0
                    ? "the file is empty" : "none of the " + state.lines + " lines is a usable example"));
        }
        return new LoadedDataset(file, state.format, state.formatLine, state.lines, state.examples, state.augmented);
    }

    /** Per-file reading state: the format once known and the conversations so far. */
    private final class State {
        final Path file;
        final IssueLog log;
        final ExampleParser parser;
        final List<Conversation> examples = new ArrayList<>();
        DatasetFormat format = explicitFormat;
        long formatLine = 0;
        long lines = 0;
        long augmented = 0;

        State(Path file, IssueLog log) {
            this.file = file;
            this.log = log;
            this.parser = new ExampleParser(log);
        }

        void accept(JsonlLine line) {
            lines = line.number();
            SourceLine where = new SourceLine(file, line.number());
            if (line.tooLong()) {
                log.add(Issue.at(IssueKind.LINE_TOO_LONG, where, "line is " + line.byteLength() + " bytes, over the limit of "
                        + maxLineBytes + " bytes; it was not read (split the example, or raise the limit)"));
                return;
            }
            if (line.invalidUtf8Offset() >= 0) {
                log.add(Issue.at(IssueKind.INVALID_UTF8, where, "byte " + (line.invalidUtf8Offset() + 1)
                        + " of the line is not valid UTF-8; save the file as UTF-8"));
                return;
            }
            if (line.bomStripped()) {
                if (line.number() == 1) {
                    log.add(Issue.at(IssueKind.BOM_AT_START, where, "the file starts with a UTF-8 byte-order mark; it was skipped"));
                } else {
                    log.add(Issue.at(IssueKind.BOM_INSIDE_FILE, where, "a byte-order mark starts this line (were files"
                            + " concatenated?); remove it"));
                    return;
                }
            }
            if (line.blank()) {
                log.add(Issue.at(IssueKind.BLANK_LINE, where, "blank line; skipped (JSONL has one object per line)"));
                return;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line.text());
            } catch (JsonProcessingException e) {
                log.add(Issue.at(IssueKind.BAD_JSON, where, "bad JSON" + column(e) + ": " + shorten(e.getOriginalMessage())));
                return;
            }
            if (!node.isObject()) {
                log.add(Issue.at(IssueKind.NOT_AN_OBJECT, where, "expected a JSON object, found " + ExampleParser.typeOf(node)));
                return;
            }
            Optional<DatasetFormat> lineFormat = DatasetFormat.detect(node);
            if (format == null) {
                if (lineFormat.isEmpty()) {
                    log.add(Issue.at(IssueKind.UNKNOWN_FORMAT, where, "keys " + keys(node) + " match no dataset format; expected "
                            + DatasetFormat.allDescriptions()));
                    return;
                }
                format = lineFormat.get();
                formatLine = line.number();
            } else if (lineFormat.isPresent() && lineFormat.get() != format) {
                String origin = formatLine > 0 ? "detected from line " + formatLine : "set explicitly";
                log.add(Issue.at(IssueKind.FORMAT_MISMATCH, where, "line is in " + lineFormat.get().description()
                        + " format, but the file is " + format.id() + " (" + origin + ")"));
                return;
            }
            parser.parse(node, format, where).ifPresent(c -> {
                examples.add(c);
                if (node.path("augmented").asBoolean(false)) augmented++;
            });
        }
    }

    private static String column(JsonProcessingException e) {
        if (e instanceof JsonParseException && e.getLocation() != null && e.getLocation().getColumnNr() > 0) {
            return " at column " + e.getLocation().getColumnNr();
        }
        return "";
    }

    private static String shorten(String s) {
        String one = s == null ? "unreadable" : s.replaceAll("\\s+", " ").strip();
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }

    private static String keys(JsonNode object) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = object.fieldNames();
        while (it.hasNext() && names.size() < 8) names.add(it.next());
        return names.isEmpty() ? "(none)" : names.toString();
    }
}
