package org.jtune.train.data.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.train.data.Issue;
import org.jtune.train.data.IssueKind;
import org.jtune.train.data.JsonlLineReader;
import org.jtune.train.data.SourceLine;

/**
 * `jtune data convert` as an API: reads a CSV/TSV/JSON/JSONL source ({@link SourceTable}), builds
 * each row's system, user (and Alpaca input) and assistant text from its column mapping ({@link
 * FieldTemplate}), and writes chat, completion or Alpaca JSONL ({@link TargetFormat}) to a temporary
 * file that is renamed over the output. A row that cannot be read or mapped (a CSV syntax fault, the
 * wrong number of fields, a missing or empty value, a line too long for JSONL) is rejected with its
 * file:line (the physical line the record starts on) and the reason, and written nowhere. Nothing is
 * written when no row converts, nor with {@code strict} when any row is rejected.
 */
public final class DataConvert {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DataConvert() {}

    /** @throws JtuneException when the source cannot be read, the mapping names unknown columns, or the output cannot be written */
    public static ConvertReport run(ConvertOptions o) throws JtuneException {
        if (o.input().toAbsolutePath().normalize().equals(o.output().toAbsolutePath().normalize())) {
            throw new JtuneException("--out " + o.output() + " is the input file; write the JSONL elsewhere");
        }
        SourceTable table = SourceTable.read(o.input(), o.kind(), o.encoding(), o.delimiter(), o.header());
        checkColumns(table, o);

        List<String> lines = new ArrayList<>();
        List<Issue> rejected = new ArrayList<>();
        long[] stripped = {0};
        for (SourceRow row : table.rows()) {
            SourceLine where = new SourceLine(table.file(), row.line());
            if (!row.ok()) {
                rejected.add(Issue.at(IssueKind.UNCONVERTIBLE_ROW, where, row.error()));
                continue;
            }
            try {
                String system = o.system() == null ? null : o.system().fill(row, "system prompt", o.strip(), true, stripped);
                String user = o.user().fill(row, "user text", o.strip(), true, stripped);
                String input = o.alpacaInput() == null ? null : o.alpacaInput().fill(row, "input", o.strip(), false, stripped);
                String assistant = o.assistant().fill(row, "assistant text", o.strip(), true, stripped);
                String line = JSON.writeValueAsString(o.to().row(system, user, input, assistant));
                int bytes = line.getBytes(StandardCharsets.UTF_8).length;
                if (bytes > JsonlLineReader.DEFAULT_MAX_LINE_BYTES) {
                    rejected.add(Issue.at(IssueKind.UNCONVERTIBLE_ROW, where, "the JSONL line would be " + bytes
                            + " bytes, over the limit of " + JsonlLineReader.DEFAULT_MAX_LINE_BYTES));
                    continue;
                }
                lines.add(line);
            } catch (FieldTemplate.MissingValue e) {
                rejected.add(Issue.at(IssueKind.UNCONVERTIBLE_ROW, where, e.getMessage()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("writing a JSON tree cannot fail", e);
            }
        }
        boolean write = !lines.isEmpty() && !(o.strict() && !rejected.isEmpty());
        if (write) {
            try {
                AtomicFile.write(o.output(), out -> {
                    for (String l : lines) {
                        out.write(l.getBytes(StandardCharsets.UTF_8));
                        out.write('\n');
                    }
                });
            } catch (IOException e) {
                throw new JtuneException(o.output() + ": cannot write: " + e.getMessage(), e);
            }
        }
        String delimiter = table.dialect() == null ? null : table.dialect().delimiterName() + " (" + table.dialect().how() + ")";
        return new ConvertReport(o.input(), o.output(), o.to(), table.kind(), table.encoding().describe(), delimiter,
                table.columns(), table.rows().size(), lines.size(), rejected, table.blankLines(), stripped[0], write);
    }

    /** Every column the mapping reads must be in the header (delimited text) or in some record (JSON). */
    private static void checkColumns(SourceTable table, ConvertOptions o) throws JtuneException {
        Set<String> wanted = new LinkedHashSet<>();
        for (FieldTemplate t : new FieldTemplate[] {o.system(), o.user(), o.alpacaInput(), o.assistant()}) {
            if (t != null) wanted.addAll(t.columns());
        }
        if (table.kind() == SourceTable.Kind.CSV) {
            Set<String> seen = new HashSet<>();
            Set<String> twice = new HashSet<>();
            for (String c : table.columns()) if (!seen.add(c)) twice.add(c);
            for (String w : wanted) {
                if (!seen.contains(w)) {
                    throw new JtuneException(table.file() + ": no column \"" + w + "\" in the header; the columns are: "
                            + String.join(", ", table.columns()) + (o.header() ? "" : " (numbered: the file has no header)"));
                }
                if (twice.contains(w)) throw new JtuneException(table.file() + ": the header names column \"" + w + "\" twice");
            }
            return;
        }
        for (String w : wanted) {
            boolean found = false;
            for (SourceRow r : table.rows()) {
                if (r.fields().containsKey(w) || r.notText().containsKey(w)) {
                    found = true;
                    break;
                }
            }
            if (!found && !table.rows().isEmpty()) {
                throw new JtuneException(table.file() + ": no record has a field \"" + w + "\"; the first record's fields are: "
                        + String.join(", ", table.columns()));
            }
        }
    }
}
