package org.jtune.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Page-fault counters of this process from /proc/self/stat (Linux; -1 elsewhere). A major fault is
 * a page read back from its file (a memory-mapped weight the OS had dropped from the page cache).
 */
final class PageFaults {
    private PageFaults() {}

    /** Major faults so far (field 12 of /proc/self/stat), or -1 when unknown. */
    static long major() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // fields after the command name, which is in parentheses and may contain spaces
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[9]); // field 12 overall: state is field 3, so index 12 - 3
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
