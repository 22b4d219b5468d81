package org.jtune.train.data.split;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a split did: the seed and settings, the rows per split and per label, the duplicate groups
 * kept together, and the check made after the split that no split shares a normalised input with
 * another (data check's overlap measure; always 0 unless something is wrong).
 *
 * @param labels       per label (most frequent first): rows in each split, in split order; empty when not stratified
 * @param sharedInputs per pair "train/validation" etc.: inputs of the second split also in the first
 */
public record SplitReport(Path input, Path outDir, long seed, boolean stratify, double nearThreshold, long examples,
                          List<Split> splits, long unused, Map<String, long[]> labels, long groups,
                          long multiMemberGroups, long examplesInMultiMemberGroups, long sameTextLinks, long nearLinks,
                          long mixedLabelGroups, Map<String, Long> sharedInputs) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One output split: its name, the file written (null when it got no rows), target and actual rows, groups. */
    public record Split(String name, Path file, long target, long rows, long groups) {}

    public SplitReport {
        splits = List.copyOf(splits);
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        sharedInputs = Collections.unmodifiableMap(new LinkedHashMap<>(sharedInputs));
    }

    /** The report for people (stderr); lists at most {@code maxLabels} labels. */
    public String text(int maxLabels) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "split %s: %d examples, seed %d, %s%n", input, examples, seed,
                stratify ? "stratified by label" : "not stratified"));
        sb.append(String.format(Locale.ROOT,
                "  duplicate groups kept in one split: %d groups of 2 or more (%d examples); %d same normalised input, %d near duplicates (shingle Jaccard >= %.2f)%s%n",
                multiMemberGroups, examplesInMultiMemberGroups, sameTextLinks, nearLinks, nearThreshold,
                mixedLabelGroups > 0 ? "; " + mixedLabelGroups + " groups mix labels (conflicting answers)" : ""));
        for (Split s : splits) {
            sb.append(String.format(Locale.ROOT, "  %-10s %6d rows (target %d), %d groups%s%n", s.name(), s.rows(), s.target(),
                    s.groups(), s.file() == null ? ", not written" : " -> " + s.file()));
        }
        if (unused > 0) sb.append(String.format(Locale.ROOT, "  %-10s %6d rows (beyond --counts)%n", "unused", unused));
        if (!labels.isEmpty()) {
            sb.append("  per label (").append(String.join(" / ", splits.stream().map(Split::name).toList())).append("):\n");
            int shown = 0;
            for (Map.Entry<String, long[]> e : labels.entrySet()) {
                if (shown++ == maxLabels) {
                    sb.append("    ... and ").append(labels.size() - maxLabels).append(" more labels (all in split_report.json)\n");
                    break;
                }
                StringBuilder counts = new StringBuilder();
                for (int s = 0; s < splits.size(); s++) counts.append(s == 0 ? "" : " / ").append(e.getValue()[s]);
                sb.append("    ").append(counts).append("  ").append(e.getKey()).append('\n');
            }
        }
        sb.append("  shared normalised inputs between splits:");
        sharedInputs.forEach((pair, n) -> sb.append(' ').append(pair).append(' ').append(n));
        sb.append('\n');
        return sb.toString();
    }

    public ObjectNode json() {
        ObjectNode o = JSON.createObjectNode();
        o.put("input", input.toString());
        o.put("out_dir", outDir.toString());
        o.put("seed", seed);
        o.put("stratify", stratify);
        o.put("near_threshold", nearThreshold);
        o.put("examples", examples);
        ObjectNode sp = o.putObject("splits");
        for (Split s : splits) {
            ObjectNode n = sp.putObject(s.name());
            if (s.file() == null) n.putNull("file");
            else n.put("file", s.file().toString());
            n.put("target", s.target());
            n.put("rows", s.rows());
            n.put("groups", s.groups());
        }
        o.put("unused", unused);
        ObjectNode g = o.putObject("groups");
        g.put("total", groups);
        g.put("multi_member", multiMemberGroups);
        g.put("examples_in_multi_member", examplesInMultiMemberGroups);
        g.put("same_text_links", sameTextLinks);
        g.put("near_links", nearLinks);
        g.put("mixed_label", mixedLabelGroups);
        if (labels.isEmpty()) {
            o.putNull("labels");
        } else {
            ObjectNode l = o.putObject("labels");
            labels.forEach((label, counts) -> {
                ObjectNode c = l.putObject(label);
                for (int s = 0; s < splits.size(); s++) c.put(splits.get(s).name(), counts[s]);
            });
        }
        ObjectNode shared = o.putObject("shared_inputs");
        sharedInputs.forEach(shared::put);
        return o;
    }
}
