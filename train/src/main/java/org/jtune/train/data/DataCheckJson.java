package org.jtune.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * The machine-readable form of a {@link DataCheckReport}: one JSON object (what `jtune data check
 * --json` prints on one line). Keys are snake_case and stable; add keys, do not rename them.
 *
 * <pre>
 * {"passed":bool,"errors":n,"warnings":n,"issue_counts":{"bad_json":n,..},
 *  "files":[{"split","path","format","format_detected_at_line","lines","examples","augmented","errors","messages",
 *            "assistant_turns","characters",
 *            "tokens":{"counter","min","p50","p90","p99","max","mean","sequence_len","over_sequence_len"},
 *            "duplicates":{"exact","near"},"conflicts":{"groups","examples"},
 *            "system_prompts":{"distinct","without","most_common_count"},
 *            "labels":null|{"distinct","imbalance_ratio","counts":{label:n}}}],
 *  "overlap":{"validation_examples","overlapping","same_answer","fraction"},   (with a validation file)
 *  "issues":[{"severity","kind","file","line","message"}],  (errors first; at most maxIssues of each)
 *  "issues_omitted":n}
 * </pre>
 */
public final class DataCheckJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DataCheckJson() {}

    public static ObjectNode toJson(DataCheckReport report, int maxIssues) {
        ObjectNode root = JSON.createObjectNode();
        IssueLog log = report.issues();
        root.put("passed", report.passed());
        root.put("errors", log.errorCount());
        root.put("warnings", log.warningCount());
        ObjectNode counts = root.putObject("issue_counts");
        for (Map.Entry<IssueKind, Long> e : log.counts().entrySet()) counts.put(e.getKey().code(), e.getValue());

        ArrayNode files = root.putArray("files");
        for (FileReport f : report.files()) files.add(file(f));
        report.overlap().ifPresent(o -> {
            ObjectNode n = root.putObject("overlap");
            n.put("validation_examples", o.validationExamples());
            n.put("overlapping", o.overlapping());
            n.put("same_answer", o.sameAnswer());
            n.put("fraction", o.fraction());
        });

        ArrayNode issues = root.putArray("issues");
        long shown = addIssues(issues, log.errors(), maxIssues) + addIssues(issues, log.warnings(), maxIssues);
        root.put("issues_omitted", log.errorCount() + log.warningCount() - shown);
        return root;
    }

    /** The report as one line of JSON. */
    public static String toJsonLine(DataCheckReport report, int maxIssues) {
        return toJson(report, maxIssues).toString();
    }

    private static ObjectNode file(FileReport f) {
        ObjectNode n = JSON.createObjectNode();
        n.put("split", f.split());
        n.put("path", f.file().toString());
        if (f.format() == null) n.putNull("format");
        else n.put("format", f.format().id());
        n.put("format_detected_at_line", f.formatDetectedAtLine());
        n.put("lines", f.lines());
        n.put("examples", f.examples());
        n.put("augmented", f.augmented());
        n.put("errors", f.errors());
        n.put("messages", f.messages());
        n.put("assistant_turns", f.assistantTurns());
        n.put("characters", f.characters());

        ObjectNode t = n.putObject("tokens");
        LengthDistribution d = f.tokens().distribution();
        t.put("counter", f.tokens().counter());
        t.put("min", d.min());
        t.put("p50", d.p50());
        t.put("p90", d.p90());
        t.put("p99", d.p99());
        t.put("max", d.max());
        t.put("mean", Math.round(d.mean() * 100) / 100.0);
        if (f.tokens().sequenceLength() > 0) t.put("sequence_len", f.tokens().sequenceLength());
        else t.putNull("sequence_len");
        t.put("over_sequence_len", f.tokens().overSequenceLength());

        ObjectNode dup = n.putObject("duplicates");
        dup.put("exact", f.duplicates().exactDuplicates());
        dup.put("near", f.duplicates().nearDuplicates());
        ObjectNode conflicts = n.putObject("conflicts");
        conflicts.put("groups", f.duplicates().conflictGroups());
        conflicts.put("examples", f.duplicates().conflictingExamples());

        ObjectNode sp = n.putObject("system_prompts");
        sp.put("distinct", f.systemPrompts().distinct());
        sp.put("without", f.systemPrompts().withoutSystemPrompt());
        sp.put("most_common_count", f.systemPrompts().mostCommonCount());

        if (f.labels().isEmpty()) {
            n.putNull("labels");
        } else {
            LabelDistribution l = f.labels().get();
            ObjectNode ln = n.putObject("labels");
            ln.put("distinct", l.labels());
            ln.put("imbalance_ratio", Math.round(l.imbalanceRatio() * 1000) / 1000.0);
            ObjectNode lc = ln.putObject("counts");
            l.counts().forEach(lc::put);
        }
        return n;
    }

    private static long addIssues(ArrayNode into, List<Issue> issues, int max) {
        int n = Math.min(max, issues.size());
        for (int i = 0; i < n; i++) {
            Issue issue = issues.get(i);
            ObjectNode o = into.addObject();
            o.put("severity", issue.severity().jsonName());
            o.put("kind", issue.kind().code());
            o.put("file", issue.file().toString());
            o.put("line", issue.line());
            o.put("message", issue.message());
        }
        return n;
    }
}
