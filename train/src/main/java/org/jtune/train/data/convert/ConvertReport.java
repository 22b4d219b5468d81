package org.jtune.train.data.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jtune.train.data.Issue;

/**
 * What a conversion did: the source as read (kind, encoding and how it was found, delimiter and
 * how, columns), the records read, converted and rejected (every rejected row with file:line and
 * why), blank lines skipped, values stripped, and whether the output was written.
 *
 * @param rejected the rejected rows, in file order (all of them)
 * @param written  whether the output file was written (not with --strict and a rejected row, nor
 *                 when no row converted)
 */
public record ConvertReport(Path input, Path output, TargetFormat to, SourceTable.Kind kind, String encoding,
                            String delimiter, List<String> columns, long records, long converted, List<Issue> rejected,
                            long blankLines, long strippedValues, boolean written) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ConvertReport {
        columns = List.copyOf(columns);
        rejected = List.copyOf(rejected);
    }

    /** The report for people (stderr), listing at most {@code maxRows} rejected rows. */
    public String text(int maxRows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "source: %s (%s, encoding %s%s)%n", input, kind.id(), encoding,
                delimiter == null ? "" : ", delimiter " + delimiter));
        sb.append("  columns: ").append(String.join(", ", columns)).append('\n');
        sb.append(String.format(Locale.ROOT, "  records %d, converted %d, rejected %d; blank lines skipped %d, values stripped of surrounding whitespace %d%n",
                records, converted, rejected.size(), blankLines, strippedValues));
        if (!rejected.isEmpty()) {
            sb.append("rejected rows (written nowhere):\n");
            int shown = Math.min(maxRows, rejected.size());
            for (int i = 0; i < shown; i++) sb.append("  ").append(rejected.get(i)).append('\n');
            if (rejected.size() > shown) sb.append("  ... and ").append(rejected.size() - shown).append(" more\n");
        }
        sb.append(written ? String.format(Locale.ROOT, "wrote %s: %d %s row%s%n", output, converted, to.id(), converted == 1 ? "" : "s")
                : "nothing written to " + output + "\n");
        return sb.toString();
    }

    /** The report as one JSON object (stable snake_case keys; at most {@code maxRows} rejected rows listed). */
    public ObjectNode json(int maxRows) {
        ObjectNode o = JSON.createObjectNode();
        o.put("input", input.toString());
        o.put("output", output.toString());
        o.put("to", to.id());
        o.put("kind", kind.id());
        o.put("encoding", encoding);
        if (delimiter == null) o.putNull("delimiter");
        else o.put("delimiter", delimiter);
        ArrayNode cols = o.putArray("columns");
        columns.forEach(cols::add);
        o.put("records", records);
        o.put("converted", converted);
        o.put("rejected", rejected.size());
        o.put("blank_lines", blankLines);
        o.put("stripped_values", strippedValues);
        o.put("written", written);
        ArrayNode rows = o.putArray("rejected_rows");
        for (int i = 0; i < Math.min(maxRows, rejected.size()); i++) {
            Issue r = rejected.get(i);
            rows.addObject().put("file", r.file().toString()).put("line", r.line()).put("reason", r.message());
        }
        return o;
    }
}
