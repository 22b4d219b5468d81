package org.jtune.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `jtune bench NAME`: runs a benchmark of the bench module; JSON lines on stdout with --json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark. Each result line carries the figure and, where a peer runs beside it, "
                + "`peer` and `ratio` (ours ÷ peer).")
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Benchmark name: ${COMPLETION-CANDIDATES}")
    org.jtune.bench.Benchmarks.Name name;

    @Option(names = "--json", description = "Print one JSON object per result on stdout.")
    boolean json;

    @Option(names = "--quick", description = "Run a small shape that only checks the benchmark works (benchmarks that have one: decode).")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        return org.jtune.bench.Benchmarks.run(name, json, quick);
    }
}
