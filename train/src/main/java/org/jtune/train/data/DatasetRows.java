package org.jtune.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jtune.JtuneException;

/**
 * A JSONL dataset read for rewriting (split, sample, review, augment): the validated examples as
 * {@link DatasetReader} sees them, the issues it found, and each physical line's text, so that a
 * tool can write an example's line back unchanged (keeping fields the reader ignores, such as
 * {@code "augmented"}) and pin a line by its {@link #hash}.
 */
public final class DatasetRows {
    private final LoadedDataset dataset;
    private final IssueLog issues;
    private final List<String> lines;   // index = line number - 1; null where the line was unreadable

    private DatasetRows(LoadedDataset dataset, IssueLog issues, List<String> lines) {
        this.dataset = dataset;
        this.issues = issues;
        this.lines = lines;
    }

    /** Reads and validates {@code file}; bad lines are in {@link #issues()}, not thrown. */
    public static DatasetRows read(Path file) throws JtuneException {
        IssueLog log = new IssueLog();
        LoadedDataset dataset = DatasetReader.detecting().read(file, log);
        List<String> lines = new ArrayList<>();
        try {
            new JsonlLineReader(JsonlLineReader.DEFAULT_MAX_LINE_BYTES).read(file, l -> lines.add(l.text()));
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new DatasetRows(dataset, log, lines);
    }

    /**
     * Reads {@code file} and refuses it when it has errors: rewriting would silently drop those
     * lines. The message lists the first few with file:line.
     */
    public static DatasetRows readClean(Path file, String command) throws JtuneException {
        DatasetRows rows = read(file);
        if (rows.issues.errorCount() > 0) {
            StringBuilder sb = new StringBuilder(file + " has " + rows.issues.errorCount() + " error(s); " + command
                    + " needs a clean file (run jtune data check --data " + file + "):");
            int shown = 0;
            for (Issue i : rows.issues.errors()) {
                if (shown++ == 10) break;
                sb.append("\n  ").append(i);
            }
            throw new JtuneException(sb.toString());
        }
        return rows;
    }

    public Path file() {
        return dataset.file();
    }

    public LoadedDataset dataset() {
        return dataset;
    }

    /** The valid examples, in file order. */
    public List<Conversation> examples() {
        return dataset.examples();
    }

    public IssueLog issues() {
        return issues;
    }

    /** Physical lines in the file. */
    public int lineCount() {
        return lines.size();
    }

    /** The text of a physical line (1-based), or null when it was unreadable (too long, not UTF-8). */
    public String line(long number) {
        return number >= 1 && number <= lines.size() ? lines.get((int) number - 1) : null;
    }

    /** The line an example was read from. */
    public String line(Conversation c) {
        return line(c.source().line());
    }

    /** The label of an example as data check sees it: the final answer, stripped; empty string without one. */
    public static String label(Conversation c) {
        return c.finalAnswer().map(String::strip).orElse("");
    }

    /** A row's fingerprint: the first 16 hex digits of the SHA-256 of its line's UTF-8 bytes. */
    public static String hash(String line) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(line.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
