package org.jtune.train.data.split;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jtune.JtuneException;
import org.jtune.train.data.NearDuplicateIndex;

/**
 * Settings of a split; build with {@link #builder}. Exactly one of ratios and counts is set.
 *
 * @param input         the JSONL file to split
 * @param outDir        where train.jsonl, validation.jsonl, test.jsonl and split_report.json go
 * @param ratios        fractions of the rows for train, validation[, test], summing to 1; or null
 * @param counts        rows for train, validation[, test] (the rest unused); or null
 * @param stratify      keep each label's share in every split
 * @param seed          the seed of every random choice
 * @param nearThreshold shingle-Jaccard threshold of near duplicates kept together; 0 for equal normalised inputs only
 * @param maxLabels     most distinct answers for --stratify to accept the data as classification
 */
public record SplitOptions(Path input, Path outDir, double[] ratios, long[] counts, boolean stratify, long seed,
                           double nearThreshold, int maxLabels) {
    /** The split names, in order. */
    public static final List<String> NAMES = List.of("train", "validation", "test");

    public SplitOptions {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(outDir, "outDir");
    }

    /** How many splits (2 or 3). */
    public int splits() {
        return ratios != null ? ratios.length : counts.length;
    }

    public static Builder builder(Path input, Path outDir) {
        return new Builder(input, outDir);
    }

    public static final class Builder {
        private final Path input;
        private final Path outDir;
        private double[] ratios;
        private long[] counts;
        private boolean stratify;
        private long seed;
        /** 0.8: a one-word edit of a ten-word query is still the same query for an evaluation. */
        private double nearThreshold = NearDuplicateIndex.DEFAULT_THRESHOLD;
        /** 1000: far above any intent set, far below the distinct answers of free text. */
        private int maxLabels = 1000;

        private Builder(Path input, Path outDir) {
            this.input = input;
            this.outDir = outDir;
        }

        public Builder ratios(double... r) { this.ratios = r.clone(); return this; }
        public Builder counts(long... c) { this.counts = c.clone(); return this; }
        public Builder stratify(boolean s) { this.stratify = s; return this; }
        public Builder seed(long s) { this.seed = s; return this; }
        public Builder nearThreshold(double t) { this.nearThreshold = t; return this; }
        public Builder maxLabels(int m) { this.maxLabels = m; return this; }

        public SplitOptions build() throws JtuneException {
            if ((ratios == null) == (counts == null)) throw new JtuneException("give --ratios or --counts (one of them)");
            int k = ratios != null ? ratios.length : counts.length;
            if (k < 2 || k > 3) throw new JtuneException("expected 2 or 3 values (train,validation[,test]), got " + k);
            if (ratios != null) {
                double sum = 0;
                for (double r : ratios) {
                    if (!(r >= 0 && r <= 1)) throw new JtuneException("--ratios: each value must be in [0, 1], got " + r);
                    sum += r;
                }
                if (Math.abs(sum - 1) > 1e-6) throw new JtuneException("--ratios must sum to 1, they sum to " + sum);
                if (ratios[0] == 0) throw new JtuneException("--ratios: the train ratio must be > 0");
            } else {
                for (long c : counts) if (c < 0) throw new JtuneException("--counts: each value must be >= 0, got " + c);
                if (counts[0] == 0) throw new JtuneException("--counts: the train count must be > 0");
            }
            if (!(nearThreshold >= 0 && nearThreshold <= 1)) {
                throw new JtuneException("--near-threshold must be in [0, 1] (0: equal normalised inputs only), got " + nearThreshold);
            }
            if (maxLabels < 2) throw new JtuneException("--max-labels must be >= 2");
            return new SplitOptions(input, outDir, ratios, counts, stratify, seed, nearThreshold, maxLabels);
        }
    }
}
