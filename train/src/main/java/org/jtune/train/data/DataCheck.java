package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jtune.JtuneException;

/**
 * `jtune data check` as an API: reads and validates the train file (and the validation file, if
 * any), builds each file's {@link FileReport}, checks train/validation overlap and label coverage,
 * and returns everything with all issues in a {@link DataCheckReport}.
 */
public final class DataCheck {
    private DataCheck() {}

    /** @throws JtuneException when a file cannot be read at all */
    public static DataCheckReport run(DataCheckOptions options) throws JtuneException {
        IssueLog log = new IssueLog();
        DatasetReader reader = new DatasetReader(options.format(), options.maxLineBytes());
        List<FileReport> files = new ArrayList<>();

        LoadedDataset train = reader.read(options.data(), log);
        files.add(report("train", train, options, log, 0));
        Optional<OverlapSummary> overlap = Optional.empty();
        if (options.validation() != null) {
            long before = log.errorCount();
            LoadedDataset validation = reader.read(options.validation(), log);
            FileReport v = report("validation", validation, options, log, before);
            files.add(v);
            overlap = Optional.of(OverlapScan.scan(train.examples(), validation.examples(), log));
            labelsMissingFromTrain(files.getFirst(), v, validation, log);
        }
        return new DataCheckReport(files, overlap, log);
    }

    private static FileReport report(String split, LoadedDataset data, DataCheckOptions options, IssueLog log,
                                     long errorsBefore) {
        long errors = log.errorCount() - errorsBefore;
        List<Conversation> examples = data.examples();
        long messages = 0;
        long assistantTurns = 0;
        long characters = 0;
        for (Conversation c : examples) {
            messages += c.messages().size();
            for (Message m : c.messages()) if (Role.of(m) == Role.ASSISTANT) assistantTurns++;
            characters += c.characters();
        }
        TokenLengths tokens = TokenLengths.of(examples, options.tokenCounter(), options.chatRenderer(),
                options.sequenceLength(), log);
        DuplicateSummary duplicates = DuplicateScan.scan(examples, log);
        SystemPromptSummary systemPrompts = SystemPromptSummary.of(examples, log);
        Optional<LabelDistribution> labels = LabelDistribution.detect(examples, options.maxLabels());
        labels.ifPresent(l -> {
            if (l.imbalanceRatio() > options.imbalanceWarningRatio()) {
                var counts = List.copyOf(l.counts().entrySet());
                log.add(Issue.wholeFile(IssueKind.LABEL_IMBALANCE, data.file(), String.format(java.util.Locale.ROOT,
                        "label imbalance %.1f: \"%s\" has %d examples, \"%s\" only %d (consider more data or reweighting)",
                        l.imbalanceRatio(), counts.getFirst().getKey(), counts.getFirst().getValue(),
                        counts.getLast().getKey(), counts.getLast().getValue())));
            }
        });
        return new FileReport(split, data.file(), data.format(), data.formatDetectedAtLine(), data.lines(),
                examples.size(), errors, messages, assistantTurns, characters, tokens, duplicates, systemPrompts, labels,
                data.augmented());
    }

    /** Validation answers of a classification dataset that train never teaches. */
    private static void labelsMissingFromTrain(FileReport train, FileReport validation, LoadedDataset v, IssueLog log) {
        if (train.labels().isEmpty()) return;
        Set<String> known = new HashSet<>(train.labels().get().counts().keySet());
        Set<String> reported = new HashSet<>();
        for (Conversation c : v.examples()) {
            String answer = c.finalAnswer().map(String::strip).orElse(null);
            if (answer == null || known.contains(answer) || !reported.add(answer)) continue;
            log.add(Issue.at(IssueKind.LABEL_NOT_IN_TRAIN, c.source(), "answer " + DuplicateScan.quote(answer)
                    + " is not one of the " + known.size() + " train labels (first occurrence)"));
        }
    }

    /** Convenience for tests and tools: checks one file with default options. */
    public static DataCheckReport run(Path data) throws JtuneException {
        return run(DataCheckOptions.builder(data).build());
    }
}
