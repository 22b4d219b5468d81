package org.jtune.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.eval.PredictionFile;
import org.jtune.eval.human.BlindPairSheet;
import org.jtune.eval.human.HumanEvalResult;
import org.jtune.eval.human.RatingImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `jtune eval human export|import`: blind A/B rating sheets for people, and their ratings read back. */
@Command(name = "human", mixinStandardHelpOptions = true,
        description = "Blind A/B human evaluation: export a rating sheet, import filled sheets.",
        subcommands = {HumanEvalCommand.Export.class, HumanEvalCommand.Import.class})
final class HumanEvalCommand implements Runnable {
    @Override
    public void run() {
        System.err.println("jtune eval human: use 'export' or 'import' (see --help)");
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write sheet.csv, sheet.html (for raters) and key.csv (for you) into --out.")
    static final class Export implements Callable<Integer> {
        @Option(names = "--baseline", required = true, paramLabel = "FILE") Path baseline;
        @Option(names = "--candidate", required = true, paramLabel = "FILE") Path candidate;
        @Option(names = "--rubric", paramLabel = "FILE", description = "Plain-text instructions shown to raters.") Path rubric;
        @Option(names = "--seed", defaultValue = "12345") long seed;
        @Option(names = "--out", required = true, paramLabel = "DIR") Path out;

        @Override
        public Integer call() {
            try {
                String text = null;
                if (rubric != null) {
                    try {
                        text = Files.readString(rubric, StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new JtuneException(rubric + ": cannot read rubric: " + e.getMessage(), e);
                    }
                }
                BlindPairSheet.export(PredictionFile.read(baseline), PredictionFile.read(candidate), text, seed, out);
                System.err.println("wrote " + out.resolve(BlindPairSheet.SHEET_CSV) + ", " + out.resolve(BlindPairSheet.SHEET_HTML)
                        + " (give to raters) and " + out.resolve(BlindPairSheet.KEY_CSV) + " (keep)");
                return 0;
            } catch (JtuneException e) {
                System.err.println("jtune eval human export: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Read filled sheets with the key; print win rate and agreement.")
    static final class Import implements Callable<Integer> {
        @Option(names = "--key", required = true, paramLabel = "FILE") Path key;
        @Parameters(arity = "1..*", paramLabel = "SHEET") List<Path> sheets;
        @Option(names = "--json", description = "Print the result as one JSON line on stdout.") boolean json;

        @Override
        public Integer call() {
            try {
                HumanEvalResult r = RatingImport.read(key, sheets);
                System.err.printf(Locale.ROOT, "%d raters, %d items: candidate wins %d, baseline wins %d, ties %d, unrated %d%n"
                                + "win rate %.4f (ties as half: %.4f); Cohen's kappa %.4f, Fleiss' kappa %.4f, Krippendorff's alpha %.4f%n",
                        r.raters().size(), r.itemIds().size(), r.candidateWins(), r.baselineWins(), r.ties(), r.unrated(),
                        r.winRate(), r.winRateTiesHalf(), r.cohenKappa(), r.fleissKappa(), r.krippendorffAlpha());
                if (json) {
                    var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
                    o.putPOJO("raters", r.raters());
                    o.put("items", r.itemIds().size()).put("candidate_wins", r.candidateWins())
                            .put("baseline_wins", r.baselineWins()).put("ties", r.ties()).put("unrated", r.unrated())
                            .put("win_rate", r.winRate()).put("win_rate_ties_half", r.winRateTiesHalf())
                            .put("cohen_kappa", r.cohenKappa()).put("fleiss_kappa", r.fleissKappa())
                            .put("krippendorff_alpha", r.krippendorffAlpha());
                    System.out.println(o);
                }
                return 0;
            } catch (JtuneException e) {
                System.err.println("jtune eval human import: " + e.getMessage());
                return 2;
            }
        }
    }
}
