package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.data.split.DataSplit;
import org.jtune.train.data.split.SplitOptions;
import org.jtune.train.data.split.SplitReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `jtune data split`: train/validation/test files from one JSONL file (see DataSplit). Exit 0, or 2 when it could not run. */
@Command(name = "split", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Split a JSONL file into train.jsonl, validation.jsonl and test.jsonl, seeded.",
                "Exact and near duplicates (same input after normalising case, punctuation and whitespace, or character "
                        + "5-gram Jaccard >= --near-threshold) stay in one split, so no split leaks into another. "
                        + "--stratify keeps each label's share (the label is the final answer) in every split. "
                        + "Lines are copied unchanged; the report (counts per split and label, groups kept together, "
                        + "the seed) is printed and written to DIR/split_report.json.",
                "Example: jtune data split --input all.jsonl --ratios 0.8,0.1,0.1 --stratify --seed 42 --out-dir data/"})
final class DataSplitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The JSONL file to split (it must pass data check).")
    Path input;

    @Option(names = "--ratios", paramLabel = "a,b[,c]", description = "Fractions for train, validation[, test], summing to 1.")
    String ratios;

    @Option(names = "--counts", paramLabel = "a,b[,c]", description = "Rows for train, validation[, test]; rows beyond their sum are left out.")
    String counts;

    @Option(names = "--stratify", description = "Keep each label's share in every split.")
    boolean stratify;

    @Option(names = "--seed", required = true, paramLabel = "N", description = "Seed of the split (required: a split must be reproducible).")
    long seed;

    @Option(names = "--out-dir", required = true, paramLabel = "DIR", description = "Folder for the split files and split_report.json.")
    Path outDir;

    @Option(names = "--near-threshold", paramLabel = "T", defaultValue = "0.8",
            description = "Character 5-gram Jaccard at which inputs count as near duplicates (0: only equal normalised inputs; default ${DEFAULT-VALUE}).")
    double nearThreshold;

    @Option(names = "--max-labels", paramLabel = "N", defaultValue = "1000",
            description = "Most distinct answers --stratify accepts as labels (default ${DEFAULT-VALUE}).")
    int maxLabels;

    @Option(names = "--json", description = "Also print the report as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        SplitReport report;
        try {
            var b = SplitOptions.builder(input, outDir).stratify(stratify).seed(seed).nearThreshold(nearThreshold).maxLabels(maxLabels);
            if (ratios != null && counts != null) throw new JtuneException("give --ratios or --counts, not both");
            if (ratios != null) b.ratios(doubles(ratios, "--ratios"));
            if (counts != null) b.counts(longs(counts, "--counts"));
            report = DataSplit.run(b.build());
        } catch (JtuneException e) {
            err.println("jtune data split: " + e.getMessage());
            err.flush();
            return 2;
        }
        err.print(report.text(20));
        err.flush();
        if (json) {
            spec.commandLine().getOut().println(report.json());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    static double[] doubles(String list, String option) throws JtuneException {
        String[] parts = list.split(",", -1);
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new JtuneException(option + " " + list + ": \"" + parts[i] + "\" is not a number");
            }
        }
        return out;
    }

    static long[] longs(String list, String option) throws JtuneException {
        String[] parts = list.split(",", -1);
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new JtuneException(option + " " + list + ": \"" + parts[i] + "\" is not a whole number");
            }
        }
        return out;
    }
}
