package org.jtune.train.data.split;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.IssueLog;
import org.jtune.train.data.LabelDistribution;
import org.jtune.train.data.OverlapScan;
import org.jtune.train.data.SeededShuffle;

/**
 * `jtune data split` as an API: reads a clean JSONL file, groups exact and near duplicates ({@link
 * DuplicateGroups}), assigns whole groups to train/validation[/test] by ratio or count, stratified by
 * label when asked ({@link SplitAllocation}; the label is the final answer, as data check sees it),
 * writes each split's lines unchanged in a seeded random order (temporary file, then rename), checks
 * that no two splits share a normalised input ({@link OverlapScan}), and writes split_report.json.
 * The same file, options and seed give byte-identical output.
 */
public final class DataSplit {
    public static final String REPORT_FILE = "split_report.json";

    private DataSplit() {}

    public static SplitReport run(SplitOptions o) throws JtuneException {
        DatasetRows rows = DatasetRows.readClean(o.input(), "data split");
        List<Conversation> examples = rows.examples();
        int n = examples.size();

        long[] targets;
        long unusedTarget;
        if (o.ratios() != null) {
            targets = SplitAllocation.targets(n, o.ratios());
            unusedTarget = 0;
        } else {
            long sum = 0;
            for (long c : o.counts()) sum += c;
            if (sum > n) throw new JtuneException("--counts ask for " + sum + " rows, the file has " + n);
            targets = o.counts().clone();
            unusedTarget = n - sum;
        }

        // strata: the labels, most frequent first (ties by name)
        Map<String, Integer> stratumOfLabel = new LinkedHashMap<>();
        if (o.stratify()) {
            LabelDistribution labels = LabelDistribution.detect(examples, o.maxLabels()).orElseThrow(() -> new JtuneException(
                    o.input() + ": the answers are not classification labels (more than " + o.maxLabels()
                            + " distinct, or most used once); split without --stratify"));
            for (String label : labels.counts().keySet()) stratumOfLabel.put(label, stratumOfLabel.size());
        }

        DuplicateGroups groups = DuplicateGroups.of(examples, o.nearThreshold());
        int g = groups.groups();
        int[] sizes = new int[g];
        int[] stratumOf = new int[g];
        long mixed = 0;
        for (int i = 0; i < g; i++) {
            int[] members = groups.members().get(i);
            sizes[i] = members.length;
            if (o.stratify()) {
                Map<String, Integer> votes = new HashMap<>();
                String best = null;
                for (int m : members) {
                    String label = DatasetRows.label(examples.get(m));
                    int v = votes.merge(label, 1, Integer::sum);
                    if (best == null || v > votes.get(best)) best = label;
                }
                if (votes.size() > 1) mixed++;
                stratumOf[i] = stratumOfLabel.get(best);
            }
        }
        int splits = targets.length;
        long[] allTargets = java.util.Arrays.copyOf(targets, splits + 1);
        allTargets[splits] = unusedTarget;
        int[] splitOfGroup = SplitAllocation.allocate(sizes, stratumOf, Math.max(1, stratumOfLabel.size()), allTargets, o.seed());

        List<List<Conversation>> parts = new ArrayList<>();
        long[] groupCount = new long[splits + 1];
        for (int s = 0; s <= splits; s++) parts.add(new ArrayList<>());
        for (int i = 0; i < g; i++) groupCount[splitOfGroup[i]]++;
        for (int i = 0; i < n; i++) parts.get(splitOfGroup[groups.groupOf()[i]]).add(examples.get(i));

        List<SplitReport.Split> written = new ArrayList<>();
        for (int s = 0; s < splits; s++) {
            String name = SplitOptions.NAMES.get(s);
            List<Conversation> part = SeededShuffle.shuffle(parts.get(s), o.seed() + 1 + s);
            Path file = null;
            if (!part.isEmpty()) {
                file = o.outDir().resolve(name + ".jsonl");
                write(file, part, rows);
            }
            written.add(new SplitReport.Split(name, file, targets[s], part.size(), groupCount[s]));
        }

        Map<String, long[]> perLabel = new LinkedHashMap<>();
        for (String label : stratumOfLabel.keySet()) perLabel.put(label, new long[splits]);
        if (o.stratify()) {
            for (int s = 0; s < splits; s++) {
                for (Conversation c : parts.get(s)) {
                    long[] counts = perLabel.get(DatasetRows.label(c));
                    if (counts != null) counts[s]++;
                }
            }
        }
        Map<String, Long> shared = new LinkedHashMap<>();
        for (int a = 0; a < splits; a++) {
            for (int b = a + 1; b < splits; b++) {
                long overlap = OverlapScan.scan(parts.get(a), parts.get(b), new IssueLog(0)).overlapping();
                shared.put(SplitOptions.NAMES.get(a) + "/" + SplitOptions.NAMES.get(b), overlap);
            }
        }
        SplitReport report = new SplitReport(o.input(), o.outDir(), o.seed(), o.stratify(), o.nearThreshold(), n, written,
                parts.get(splits).size(), perLabel, g, groups.multiMemberGroups(), groups.examplesInMultiMemberGroups(),
                groups.sameText(), groups.nearLinks(), mixed, shared);
        try {
            AtomicFile.write(o.outDir().resolve(REPORT_FILE),
                    out -> out.write((report.json().toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new JtuneException(o.outDir().resolve(REPORT_FILE) + ": cannot write: " + e.getMessage(), e);
        }
        return report;
    }

    private static void write(Path file, List<Conversation> part, DatasetRows rows) throws JtuneException {
        try {
            AtomicFile.write(file, out -> {
                for (Conversation c : part) {
                    out.write(rows.line(c).getBytes(StandardCharsets.UTF_8));
                    out.write('\n');
                }
            });
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot write: " + e.getMessage(), e);
        }
    }
}
