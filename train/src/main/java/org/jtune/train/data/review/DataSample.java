package org.jtune.train.data.review;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.LabelDistribution;
import org.jtune.train.data.SeededShuffle;

/**
 * `jtune data sample` as an API: picks examples of a clean JSONL file for manual review, seeded —
 * {@code n} at random (sheet in file order), or {@code perLabel} of every label (all of a label
 * that has fewer; sheet grouped by label, most frequent first) — and writes the {@link ReviewSheet}
 * and its HTML view.
 */
public final class DataSample {
    /** What was sampled: rows on the sheet, labels they cover (0 for a random sample of free-text data). */
    public record Result(Path sheet, Path html, int rows, int labels, int examples) {}

    private DataSample() {}

    /**
     * @param n        rows to sample at random (ignored when perLabel > 0)
     * @param perLabel rows per label, or 0
     */
    public static Result run(Path input, Path sheet, int n, int perLabel, long seed) throws JtuneException {
        if (n < 1 && perLabel < 1) throw new JtuneException("give --n N (at random) or --per-label K, each >= 1");
        DatasetRows rows = DatasetRows.readClean(input, "data sample");
        List<Conversation> examples = rows.examples();
        List<Conversation> picked = new ArrayList<>();
        int labels;
        if (perLabel > 0) {
            LabelDistribution dist = LabelDistribution.detect(examples, Integer.MAX_VALUE).orElseThrow(() -> new JtuneException(
                    input + ": the answers are not classification labels; sample with --n instead of --per-label"));
            Map<String, List<Conversation>> byLabel = new LinkedHashMap<>();
            for (String label : dist.counts().keySet()) byLabel.put(label, new ArrayList<>());
            for (Conversation c : examples) byLabel.get(DatasetRows.label(c)).add(c);
            long labelSeed = seed;
            for (List<Conversation> members : byLabel.values()) {
                List<Conversation> chosen = new ArrayList<>(SeededShuffle.shuffle(members, labelSeed++)
                        .subList(0, Math.min(perLabel, members.size())));
                chosen.sort(Comparator.comparingLong(c -> c.source().line()));
                picked.addAll(chosen);
            }
            labels = byLabel.size();
        } else {
            picked.addAll(SeededShuffle.shuffle(examples, seed).subList(0, Math.min(n, examples.size())));
            picked.sort(Comparator.comparingLong(c -> c.source().line()));
            labels = (int) picked.stream().map(DatasetRows::label).distinct().count();
        }
        List<ReviewSheet.Row> sheetRows = new ArrayList<>();
        for (Conversation c : picked) {
            String line = rows.line(c);
            var json = RowFields.parse(line);
            sheetRows.add(ReviewSheet.example(c.source().line(), DatasetRows.hash(line), RowFields.input(json, c.format()),
                    RowFields.answer(json, c.format()), RowFields.context(json, c.format())));
        }
        String title = "Review of " + input.getFileName() + ": " + (perLabel > 0 ? perLabel + " per label" : picked.size() + " at random")
                + ", seed " + seed;
        ReviewSheet.write(sheet, sheetRows, title);
        return new Result(sheet, ReviewSheet.htmlPath(sheet), sheetRows.size(), labels, examples.size());
    }
}
