package org.jtune.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.serve.feedback.FeedbackExport;
import org.jtune.serve.monitor.RequestLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `jtune data from-feedback`: the request log's rated and corrected answers as chat JSONL for the next
 * fine-tune, deduplicated, checked for leakage against the existing data files, with a review sheet.
 * Exit 0 done, 2 bad input.
 */
@Command(name = "from-feedback", mixinStandardHelpOptions = true,
        description = "Export feedback from the request log (POST /v1/feedback) as chat JSONL: the correction as the assistant's answer, "
                + "or the model's answer when rated at least --min-rating; duplicates and prompts already in --train/--validation/--test "
                + "are skipped; a CSV review sheet says what was written and skipped and why.")
final class DataFromFeedbackCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--log-db", required = true, paramLabel = "URL", description = "The request log (SQLite file or jdbc:postgresql:// URL).")
    String logDb;
    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Chat JSONL to write.")
    Path out;
    @Option(names = "--review", paramLabel = "FILE.csv", description = "Review sheet (default: OUT with .review.csv).")
    Path review;
    @Option(names = "--min-rating", paramLabel = "R", description = "Also export the model's own answers rated at least R (without: corrections only).")
    Double minRating;
    @Option(names = {"--train", "--validation", "--test"}, paramLabel = "FILE", description = "Existing data files to check for leakage (repeatable).")
    List<Path> existing = new ArrayList<>();
    @Option(names = "--window", defaultValue = "all", paramLabel = "DURATION", description = "Only feedback this recent: 24h, 7d, ... or all (default ${DEFAULT-VALUE}).")
    String window;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        try {
            Path sheet = review != null ? review : out.resolveSibling(out.getFileName().toString().replaceFirst("\\.jsonl$", "") + ".review.csv");
            RequestLog.Window w = window.equalsIgnoreCase("all") ? RequestLog.Window.all() : RequestLog.Window.last(MonitorCommand.duration(window));
            FeedbackExport.Result r = FeedbackExport.run(RequestLog.open(logDb), w, new FeedbackExport.Options(minRating, existing, out, sheet));
            StringBuilder why = new StringBuilder();
            for (var e : r.reasons().entrySet()) {
                if (!e.getKey().equals("written")) why.append(why.isEmpty() ? " (" : ", ").append(e.getKey()).append(": ").append(e.getValue());
            }
            if (!why.isEmpty()) why.append(')');
            err.printf("%d feedback rows: %d lines written to %s, %d skipped%s; review sheet %s%n", r.feedback(), r.written(), out, r.skipped(),
                    why, sheet);
            return 0;
        } catch (JtuneException e) {
            err.println("jtune data from-feedback: " + e.getMessage());
            return 2;
        } finally {
            err.flush();
        }
    }
}
