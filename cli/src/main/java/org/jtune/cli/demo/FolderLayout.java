package org.jtune.cli.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A folder drawn as an indented tree with file sizes, for the demo's summary. Folders named
 * "checkpoints" are shown as one line with their count of checkpoints, since their contents repeat the
 * run's outputs; hidden files (the output folders' {@code .NAME.lock} files) are left out.
 */
final class FolderLayout {
    private FolderLayout() {}

    static List<String> render(Path root) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(root + "/");
        walk(root, "", lines);
        return lines;
    }

    private static void walk(Path dir, String indent, List<String> lines) throws IOException {
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList(); // hidden: the folders' lock files
        }
        for (int i = 0; i < entries.size(); i++) {
            Path p = entries.get(i);
            boolean last = i == entries.size() - 1;
            String name = p.getFileName().toString();
            String branch = indent + (last ? "└── " : "├── ");
            if (Files.isDirectory(p)) {
                if (name.equals("checkpoints")) {
                    long n;
                    try (Stream<Path> s = Files.list(p)) {
                        n = s.filter(Files::isDirectory).count();
                    }
                    lines.add(branch + name + "/  (" + n + " checkpoints)");
                } else {
                    lines.add(branch + name + "/");
                    walk(p, indent + (last ? "    " : "│   "), lines);
                }
            } else {
                lines.add(branch + name + "  " + size(Files.size(p)));
            }
        }
    }

    static String size(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
