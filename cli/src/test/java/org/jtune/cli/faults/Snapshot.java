package org.jtune.cli.faults;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jtune.io.AtomicFile;

/** Relative path -> SHA-256 of every file of a folder (hidden files aside): "byte-identical" and "old or new" as equalities. */
final class Snapshot {
    private Snapshot() {}

    static Map<String, String> of(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        if (!Files.exists(dir)) return m;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(p).toString();
                boolean hidden = false;
                for (Path part : dir.relativize(p)) hidden |= part.toString().startsWith(".");
                if (!hidden) m.put(rel, AtomicFile.sha256(p));
            }
        }
        return m;
    }

    /** The siblings an interrupted staged write may leave beside {@code target} (lock files aside). */
    static java.util.List<String> leftovers(Path target) throws Exception {
        Path parent = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName() + ".";
        try (Stream<Path> s = Files.list(parent)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix) && !n.endsWith(".lock")).sorted().toList();
        }
    }
}
