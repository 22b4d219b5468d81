package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.data.review.DataSample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `jtune data sample`: a review sheet (CSV and HTML) of examples picked at random or per label (see DataSample). */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a review sheet (CSV, and an HTML view beside it) of examples picked at random or per label, seeded.",
                "The reviewer fills the action column (keep, drop, fix, relabel) and corrected_input, corrected_answer, new_label "
                        + "or note, then runs jtune data apply-review. Each row carries its line and a hash of it, so a sheet "
                        + "cannot be applied to another version of the file.",
                "Example: jtune data sample --input train.jsonl --n 100 --seed 1 --out review.csv"})
final class DataSampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The JSONL file (it must pass data check).")
    Path input;

    @Option(names = "--n", paramLabel = "N", description = "Examples to pick at random.")
    Integer n;

    @Option(names = "--per-label", paramLabel = "K", description = "Pick K examples of every label instead (all of a smaller label).")
    Integer perLabel;

    @Option(names = "--seed", required = true, paramLabel = "N", description = "Seed of the sample.")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "SHEET.csv", description = "The sheet to write; the HTML view goes beside it (SHEET.html).")
    Path out;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (n != null && perLabel != null) throw new JtuneException("give --n or --per-label, not both");
            if (n == null && perLabel == null) throw new JtuneException("give --n N or --per-label K");
            DataSample.Result r = DataSample.run(input, out, n == null ? 0 : n, perLabel == null ? 0 : perLabel, seed);
            err.printf("wrote %s (%d of %d examples, %d labels) and %s%n", r.sheet(), r.rows(), r.examples(), r.labels(), r.html());
            err.flush();
            return 0;
        } catch (JtuneException e) {
            err.println("jtune data sample: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
