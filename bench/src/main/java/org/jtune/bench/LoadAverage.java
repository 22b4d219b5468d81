package org.jtune.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The 1/5/15-minute load averages of the machine (from /proc/loadavg), to say how busy it was during a run. */
final class LoadAverage {
    private LoadAverage() {}

    static String read() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "unknown";
        }
    }
}
