package org.jtune.train.data.augment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What an augmentation did: the generator, the leakage files checked, and per label the training
 * rows, the generations tried, the candidates kept for review and the rejections by reason.
 */
public record AugmentReport(Path input, Path sheet, String generator, List<Path> holdouts, List<PerLabel> labels) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One augmented label. */
    public record PerLabel(String label, long rows, int attempts, int kept, Map<CandidateFilter.Reason, Integer> rejected) {
        public PerLabel {
            rejected = new EnumMap<>(rejected.isEmpty() ? new EnumMap<>(CandidateFilter.Reason.class) : rejected);
        }
    }

    public AugmentReport {
        holdouts = List.copyOf(holdouts);
        labels = List.copyOf(labels);
    }

    public int kept() {
        return labels.stream().mapToInt(PerLabel::kept).sum();
    }

    public int attempts() {
        return labels.stream().mapToInt(PerLabel::attempts).sum();
    }

    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "augment %s with %s%n", input, generator));
        sb.append("  leakage checked against: ").append(holdouts.isEmpty() ? "no validation or test file (none given or found)"
                : String.join(", ", holdouts.stream().map(Path::toString).toList())).append('\n');
        for (PerLabel l : labels) {
            sb.append(String.format(Locale.ROOT, "  %-40s %5d rows: %d generated, %d kept", l.label(), l.rows(), l.attempts(), l.kept()));
            if (!l.rejected().isEmpty()) {
                sb.append("; rejected");
                l.rejected().forEach((r, n) -> sb.append(' ').append(r.code()).append(' ').append(n));
            }
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "wrote %d candidates to %s for review; approved ones join the data through jtune data apply-review%n",
                kept(), sheet));
        return sb.toString();
    }

    public ObjectNode json() {
        ObjectNode o = JSON.createObjectNode();
        o.put("input", input.toString());
        o.put("sheet", sheet.toString());
        o.put("generator", generator);
        var h = o.putArray("holdouts");
        holdouts.forEach(p -> h.add(p.toString()));
        o.put("attempts", attempts());
        o.put("kept", kept());
        ObjectNode ls = o.putObject("labels");
        for (PerLabel l : labels) {
            ObjectNode n = ls.putObject(l.label());
            n.put("rows", l.rows()).put("attempts", l.attempts()).put("kept", l.kept());
            ObjectNode r = n.putObject("rejected");
            l.rejected().forEach((reason, k) -> r.put(reason.code(), k));
        }
        return o;
    }
}
