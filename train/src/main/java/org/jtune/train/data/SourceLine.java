package org.jtune.train.data;

import java.nio.file.Path;
import java.util.Objects;

/** Where an example or an issue comes from: a file and a 1-based line number. Prints as {@code file:line}. */
public record SourceLine(Path file, long line) implements Comparable<SourceLine> {
    public SourceLine {
        Objects.requireNonNull(file, "file");
        if (line < 1) throw new IllegalArgumentException("line numbers start at 1, got " + line);
    }

    @Override
    public int compareTo(SourceLine o) {
        int c = file.toString().compareTo(o.file.toString());
        return c != 0 ? c : Long.compare(line, o.line);
    }

    @Override
    public String toString() {
        return file + ":" + line;
    }
}
