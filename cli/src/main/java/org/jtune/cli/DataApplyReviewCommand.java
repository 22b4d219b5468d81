package org.jtune.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.train.data.review.ApplyReview;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `jtune data apply-review`: applies a marked review or augmentation sheet and writes a new version
 * of the file and a change log (see ApplyReview). Exit 0, 1 when the sheet does not match the file
 * (nothing written), 2 when it could not run.
 */
@Command(name = "apply-review", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Apply a marked review sheet (from data sample or data augment) and write a new version of the file.",
                "drop removes a row, fix replaces its input and/or answer, relabel its answer; approved candidates (keep, fix, "
                        + "relabel) are added marked \"augmented\": true. A sheet whose row hashes do not match the file, or "
                        + "with an edited read-only column, is refused and nothing is written. The change log lists every "
                        + "change with the text before and after.",
                "Example: jtune data apply-review --input train.jsonl --sheet review.csv --out train.v2.jsonl"})
final class DataApplyReviewCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The JSONL file the sheet was made from.")
    Path input;

    @Option(names = "--sheet", required = true, paramLabel = "SHEET.csv", description = "The marked sheet.")
    Path sheet;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The new version of the file (not the input).")
    Path out;

    @Option(names = "--log", paramLabel = "FILE", description = "The change log (default: OUT with .changes.jsonl).")
    Path log;

    @Option(names = "--json", description = "Also print the counts as one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ApplyReview.Result r;
        try {
            if (!java.nio.file.Files.isRegularFile(sheet)) throw new JtuneException(sheet + ": no such file");
            r = ApplyReview.run(input, sheet, out, log != null ? log : ApplyReview.defaultChangeLog(out));
        } catch (JtuneException e) {
            err.println("jtune data apply-review: " + e.getMessage());
            err.flush();
            return e.getMessage().contains("does not match") ? 1 : 2;
        }
        r.warnings().forEach(w -> err.println("warning: " + w));
        err.printf("wrote %s: %d lines (%d dropped, %d fixed, %d relabeled, %d augmented rows added; %d candidates not approved, "
                        + "%d duplicates skipped); change log %s%n", r.output(), r.lines(), r.dropped(), r.fixed(), r.relabeled(),
                r.added(), r.candidatesNotApproved(), r.candidatesDuplicate(), r.changeLog());
        err.flush();
        if (json) {
            var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
            o.put("output", r.output().toString()).put("change_log", r.changeLog().toString()).put("lines", r.lines())
                    .put("dropped", r.dropped()).put("fixed", r.fixed()).put("relabeled", r.relabeled()).put("added", r.added())
                    .put("candidates_not_approved", r.candidatesNotApproved()).put("candidates_duplicate", r.candidatesDuplicate());
            spec.commandLine().getOut().println(o);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
