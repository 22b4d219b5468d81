package org.jtune.train.data;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The human-readable form of a {@link DataCheckReport} (what `jtune data check` prints on stderr):
 * per file the counts, token lengths, duplicates, system prompts and labels; the overlap; then the
 * errors and the warnings in separate sections, each listing at most {@code maxIssues} lines with a
 * count per kind; and a last line PASSED or FAILED.
 */
public final class DataCheckText {
    private DataCheckText() {}

    public static String render(DataCheckReport report, int maxIssues) {
        StringBuilder out = new StringBuilder();
        for (FileReport f : report.files()) file(out, f);
        report.overlap().ifPresent(o -> out.append(String.format(Locale.ROOT,
                "overlap: %d of %d validation inputs also occur in train (%.1f%%), %d of them with the same answer%n",
                o.overlapping(), o.validationExamples(), 100 * o.fraction(), o.sameAnswer())));
        IssueLog log = report.issues();
        section(out, "Errors", log.errorCount(), log.errors(), log.counts(), Severity.ERROR, maxIssues);
        section(out, "Warnings", log.warningCount(), log.warnings(), log.counts(), Severity.WARNING, maxIssues);
        out.append(String.format(Locale.ROOT, "%n%s: %d error%s, %d warning%s%n", report.passed() ? "PASSED" : "FAILED",
                log.errorCount(), log.errorCount() == 1 ? "" : "s", log.warningCount(), log.warningCount() == 1 ? "" : "s"));
        return out.toString();
    }

    private static void file(StringBuilder out, FileReport f) {
        String format = f.format() == null ? "format unknown"
                : f.format().description() + (f.formatDetectedAtLine() > 0 ? ", detected from line " + f.formatDetectedAtLine() : "");
        out.append(String.format(Locale.ROOT, "%s: %s (%s)%n", f.split(), f.file(), format));
        out.append(String.format(Locale.ROOT, "  lines %d, valid examples %d, errors %d%n", f.lines(), f.examples(), f.errors()));
        if (f.augmented() > 0) {
            out.append(String.format(Locale.ROOT, "  %d augmented rows (marked \"augmented\": true)%n", f.augmented()));
        }
        out.append(String.format(Locale.ROOT, "  messages %d (assistant turns %d), characters %d%n",
                f.messages(), f.assistantTurns(), f.characters()));
        LengthDistribution d = f.tokens().distribution();
        out.append(String.format(Locale.ROOT,
                "  tokens per example (%s): min %d, p50 %d, p90 %d, p99 %d, max %d, mean %.1f; %s%n",
                f.tokens().counter(), d.min(), d.p50(), d.p90(), d.p99(), d.max(), d.mean(),
                f.tokens().sequenceLength() > 0 ? f.tokens().overSequenceLength() + " over sequence length " + f.tokens().sequenceLength()
                        : "no length limit checked (give --recipe, --model or --sequence-len)"));
        DuplicateSummary dup = f.duplicates();
        out.append(String.format(Locale.ROOT, "  duplicates: %d exact, %d near; conflicts: %d inputs with different answers (%d examples)%n",
                dup.exactDuplicates(), dup.nearDuplicates(), dup.conflictGroups(), dup.conflictingExamples()));
        SystemPromptSummary sp = f.systemPrompts();
        out.append(String.format(Locale.ROOT, "  system prompts: %d distinct (most common used by %d), %d examples without%n",
                sp.distinct(), sp.mostCommonCount(), sp.withoutSystemPrompt()));
        f.labels().ifPresentOrElse(l -> {
            out.append(String.format(Locale.ROOT, "  labels: %d distinct, imbalance %.2f (largest / smallest count)%n",
                    l.labels(), l.imbalanceRatio()));
            l.counts().forEach((label, n) -> out.append(String.format(Locale.ROOT, "    %6d  %s%n", n, label)));
        }, () -> out.append("  labels: answers are not classification-style (free text)\n"));
    }

    private static void section(StringBuilder out, String title, long total, List<Issue> kept,
                                Map<IssueKind, Long> counts, Severity severity, int maxIssues) {
        out.append(String.format(Locale.ROOT, "%n%s (%d)%s%n", title, total, total == 0 ? ": none" : ""));
        if (total == 0) return;
        StringBuilder byKind = new StringBuilder();
        counts.forEach((kind, n) -> {
            if (kind.severity() != severity) return;
            if (!byKind.isEmpty()) byKind.append(", ");
            byKind.append(kind.title()).append(' ').append(n);
        });
        out.append("  by kind: ").append(byKind).append('\n');
        int shown = Math.min(maxIssues, kept.size());
        for (int i = 0; i < shown; i++) out.append("  ").append(kept.get(i)).append('\n');
        if (total > shown) out.append("  ... and ").append(total - shown).append(" more\n");
    }
}
