package org.jtune.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The bench module's own entry point, started by `jtune bench` in a JVM whose class path holds the
 * benchmarks and their peers (OpenBLAS, Jlama), which the product's class path never does.
 */
@Command(name = "jtune bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark. Each result line carries the figure and, where a peer runs beside it, "
                + "`peer` and `ratio` (ours ÷ peer). Figures, dates and commands: bench/RESULTS.md.")
public final class BenchMain implements Callable<Integer> {
    @Parameters(index = "0", description = "Benchmark name: ${COMPLETION-CANDIDATES}")
    Benchmarks.Name name;

    @Option(names = "--json", description = "Print one JSON object per result on stdout.")
    boolean json;

    @Option(names = "--quick", description = "Run a small shape that only checks the benchmark works (benchmarks that have one: decode, serve, prompt_lookup, score).")
    boolean quick;

    @Option(names = "--formats", split = ",", paramLabel = "LIST",
            description = "decode: the weight formats to measure, of f32, bf16, q8_0, q4_0, q4_k (llama.cpp's Q4_K_M mixture; "
                    + "q4_k_m is the same) (default: all).")
    java.util.List<String> formats = DecodeBenchmark.ALL_FORMATS;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        try {                                       // a usage error, not a stack trace from the benchmark's constructor
            DecodeBenchmark.formats(formats);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        return Benchmarks.run(name, json, quick, formats);
    }
}
