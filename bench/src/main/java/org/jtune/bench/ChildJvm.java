package org.jtune.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that runs a bench class's {@code main} in a fresh JVM with this JVM's flags (heap sizing, GC,
 * {@code -Djtune.*} settings, native access) and class path. Benchmarks measure in such children so that one row's heap,
 * JIT profile and page cache state do not leak into the next, and peak memory is the row's own.
 */
final class ChildJvm {
    private ChildJvm() {}

    static List<String> command(Class<?> main, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        return cmd;
    }
}
