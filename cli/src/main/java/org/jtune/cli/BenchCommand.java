package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * `jtune bench NAME`: runs the bench module (org.jtune.bench.BenchMain) in a child JVM on its own
 * class path — the benchmarks' peers (OpenBLAS, Jlama) are never on the product's class path. The
 * bench module is found beside the CLI in a source checkout (bench/target, built by ./jtune).
 */
@Command(name = "bench", description = "Run a benchmark beside a peer measured in the same run (from a source checkout: "
        + "`./jtune bench --help` lists them). Arguments are passed to the bench module.")
final class BenchCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        String home = System.getProperty("jtune.home");
        Path bench = home == null ? null : Path.of(home, "bench", "target");
        Path jar = bench == null ? null : bench.resolve("jtune-bench.jar");
        if (jar == null || !Files.isRegularFile(jar) || !Files.isDirectory(bench.resolve("lib"))) {
            System.err.println("jtune bench: the benchmarks are not part of this installation; run them from a source checkout "
                    + "with ./jtune bench NAME (it builds bench/target/jtune-bench.jar)");
            return 2;
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(jar + java.io.File.pathSeparator + bench.resolve("lib") + java.io.File.separator + "*");
        cmd.add("org.jtune.bench.BenchMain");
        cmd.addAll(args);
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
}
