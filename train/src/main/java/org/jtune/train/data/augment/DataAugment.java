package org.jtune.train.data.augment;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.LabelDistribution;
import org.jtune.train.data.SeededShuffle;
import org.jtune.train.data.review.ReviewSheet;
import org.jtune.train.data.review.RowFields;

/**
 * `jtune data augment` as an API: for each chosen label of a classification-style training file
 * (named, or every label with fewer rows than a bound), asks a {@link ParaphraseGenerator} to
 * rewrite that label's examples (in a seeded order, round after round) until {@code n} candidates
 * pass the {@link CandidateFilter} or {@code maxAttempts} generations are spent, and writes the kept
 * candidates to a {@link ReviewSheet} (kind candidate, the answer of the example they paraphrase).
 * Nothing joins the training file here: {@link org.jtune.train.data.review.ApplyReview} adds the
 * approved ones, marked augmented. Validation and test files (given, else validation.jsonl and
 * test.jsonl beside the input) are the leakage reference.
 */
public final class DataAugment {
    private static final int ROUND = 8;

    private DataAugment() {}

    /** The holdout files: those given, else validation.jsonl and test.jsonl beside the input when they exist. */
    public static List<Path> holdouts(Path input, List<Path> given) {
        if (!given.isEmpty()) return given;
        List<Path> found = new ArrayList<>();
        Path dir = input.toAbsolutePath().getParent();
        for (String name : List.of("validation.jsonl", "test.jsonl")) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p) && !p.equals(input.toAbsolutePath())) found.add(p);
        }
        return found;
    }

    public static AugmentReport run(AugmentOptions o, ParaphraseGenerator generator) throws JtuneException {
        DatasetRows rows = DatasetRows.readClean(o.input(), "data augment");
        LabelDistribution dist = LabelDistribution.detect(rows.examples(), Integer.MAX_VALUE).orElseThrow(() -> new JtuneException(
                o.input() + ": the answers are not classification labels; augment works per label"));
        Map<String, List<Conversation>> byLabel = new LinkedHashMap<>();
        for (String label : dist.counts().keySet()) byLabel.put(label, new ArrayList<>());
        List<String> trainingInputs = new ArrayList<>();
        for (Conversation c : rows.examples()) {
            String input = RowFields.input(RowFields.parse(rows.line(c)), c.format());
            if (input == null) throw new JtuneException(rows.line(c) == null ? o.input() + ": unreadable line"
                    : c.source() + ": a " + c.format().id() + " row has no input to paraphrase");
            trainingInputs.add(input);
            byLabel.get(DatasetRows.label(c)).add(c);
        }
        List<String> chosen = new ArrayList<>();
        if (o.labels() != null) {
            for (String l : o.labels()) {
                if (!byLabel.containsKey(l.strip())) {
                    throw new JtuneException("--labels: \"" + l + "\" is not a label of " + o.input() + " (labels: "
                            + String.join(", ", byLabel.keySet().stream().limit(20).toList()) + (byLabel.size() > 20 ? ", ..." : "") + ")");
                }
                chosen.add(l.strip());
            }
        } else {
            byLabel.forEach((label, members) -> {
                if (members.size() < o.perLabelBelow()) chosen.add(label);
            });
        }

        List<Path> holdouts = o.holdouts();
        List<String> holdoutInputs = new ArrayList<>();
        for (Path h : holdouts) {
            DatasetRows held = DatasetRows.read(h);
            for (Conversation c : held.examples()) {
                String line = held.line(c);
                String input = line == null ? null : RowFields.input(RowFields.parse(line), c.format());
                if (input != null) holdoutInputs.add(input);
            }
        }
        CandidateFilter filter = new CandidateFilter(trainingInputs, holdoutInputs, byLabel.keySet(), o.nearThreshold(),
                o.minRatio(), o.maxRatio());

        List<ReviewSheet.Row> sheet = new ArrayList<>();
        List<AugmentReport.PerLabel> perLabel = new ArrayList<>();
        long labelSeed = o.seed();
        for (String label : chosen) {
            List<Conversation> sources = SeededShuffle.shuffle(byLabel.get(label), labelSeed);
            Map<CandidateFilter.Reason, Integer> rejected = new EnumMap<>(CandidateFilter.Reason.class);
            int attempts = 0;
            int kept = 0;
            while (kept < o.n() && attempts < o.maxAttempts()) {
                int batch = Math.min(Math.min(ROUND, o.maxAttempts() - attempts), Math.max(1, o.n() - kept));
                List<Conversation> from = new ArrayList<>();
                List<String> prompts = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    Conversation c = sources.get((attempts + i) % sources.size());
                    from.add(c);
                    prompts.add(prompt(o.promptTemplate(), RowFields.parse(rows.line(c)), c, label));
                }
                List<String> outputs = generator.generate(prompts, labelSeed * 1_000_003L + attempts);
                attempts += batch;
                for (int i = 0; i < batch && kept < o.n(); i++) {
                    Conversation c = from.get(i);
                    String line = rows.line(c);
                    ObjectNode json = RowFields.parse(line);
                    String sourceInput = RowFields.input(json, c.format());
                    String candidate = CandidateFilter.clean(outputs.get(i), sourceInput.strip().contains("\n"));
                    Optional<CandidateFilter.Reason> why = filter.check(candidate, sourceInput);
                    if (why.isPresent()) {
                        rejected.merge(why.get(), 1, Integer::sum);
                        continue;
                    }
                    filter.keep(candidate);
                    kept++;
                    sheet.add(ReviewSheet.candidate(c.source().line(), line, candidate, RowFields.answer(json, c.format()),
                            sourceInput, ""));
                }
            }
            perLabel.add(new AugmentReport.PerLabel(label, byLabel.get(label).size(), attempts, kept, rejected));
            labelSeed++;
        }
        ReviewSheet.write(o.sheet(), sheet, "Augmentation candidates for " + o.input().getFileName() + " (" + generator.describe()
                + ", seed " + o.seed() + ")");
        return new AugmentReport(o.input(), o.sheet(), generator.describe(), holdouts, perLabel);
    }

    private static String prompt(String template, ObjectNode row, Conversation c, String label) {
        return template.replace("{input}", RowFields.input(row, c.format())).replace("{label}", label);
    }
}
