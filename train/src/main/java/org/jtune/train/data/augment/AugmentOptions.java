package org.jtune.train.data.augment;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jtune.JtuneException;
import org.jtune.train.data.NearDuplicateIndex;

/**
 * Settings of an augmentation; build with {@link #builder}. Each default carries its reason.
 *
 * @param input          the training file (classification-style JSONL)
 * @param sheet          the review sheet to write
 * @param labels         the labels to augment, or null when chosen by {@code perLabelBelow}
 * @param perLabelBelow  augment every label with fewer training rows than this, or 0
 * @param n              candidates to keep per label
 * @param maxAttempts    generations per label at most
 * @param holdouts       validation and test files candidates must not leak into
 * @param promptTemplate the prompt; {input} is the example's input, {label} its answer
 */
public record AugmentOptions(Path input, Path sheet, List<String> labels, int perLabelBelow, int n, int maxAttempts,
                             List<Path> holdouts, String promptTemplate, double nearThreshold, double minRatio,
                             double maxRatio, long seed) {
    /** Asks for the paraphrase only, and ends with a cue that base models continue. */
    public static final String DEFAULT_PROMPT = "Rewrite this customer message in other words. Keep its meaning and intent. "
            + "Reply with the rewritten message only.\nMessage: {input}\nRewritten message:";

    public AugmentOptions {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(sheet, "sheet");
        labels = labels == null ? null : List.copyOf(labels);
        holdouts = List.copyOf(holdouts);
    }

    public static Builder builder(Path input, Path sheet) {
        return new Builder(input, sheet);
    }

    public static final class Builder {
        private final Path input;
        private final Path sheet;
        private List<String> labels;
        private int perLabelBelow;
        /** 20: a reviewer can read that many per label in a few minutes. */
        private int n = 20;
        private Integer maxAttempts;
        private List<Path> holdouts = List.of();
        private String promptTemplate = DEFAULT_PROMPT;
        /** The near-duplicate threshold data split uses: a candidate split would group with a row is no new row. */
        private double nearThreshold = NearDuplicateIndex.DEFAULT_THRESHOLD;
        /** 0.3 and 3: a paraphrase of a ticket is a ticket, not a word or a story. */
        private double minRatio = 0.3;
        private double maxRatio = 3;
        private long seed;

        private Builder(Path input, Path sheet) {
            this.input = input;
            this.sheet = sheet;
        }

        public Builder labels(List<String> l) { this.labels = l; return this; }
        public Builder perLabelBelow(int k) { this.perLabelBelow = k; return this; }
        public Builder n(int k) { this.n = k; return this; }
        /** Default: 4 × n, enough for a model that writes a usable paraphrase one time in four. */
        public Builder maxAttempts(int k) { this.maxAttempts = k; return this; }
        public Builder holdouts(List<Path> h) { this.holdouts = h; return this; }
        public Builder promptTemplate(String t) { this.promptTemplate = t; return this; }
        public Builder nearThreshold(double t) { this.nearThreshold = t; return this; }
        public Builder lengthRatios(double min, double max) { this.minRatio = min; this.maxRatio = max; return this; }
        public Builder seed(long s) { this.seed = s; return this; }

        public AugmentOptions build() throws JtuneException {
            if ((labels == null || labels.isEmpty()) == (perLabelBelow <= 0)) {
                throw new JtuneException("give --labels L1,L2 or --per-label-below N (one of them)");
            }
            if (n < 1) throw new JtuneException("--n must be >= 1");
            int attempts = maxAttempts != null ? maxAttempts : 4 * n;
            if (attempts < 1) throw new JtuneException("--max-attempts must be >= 1");
            if (!promptTemplate.contains("{input}")) throw new JtuneException("--prompt-template must contain {input}");
            if (!(nearThreshold > 0 && nearThreshold <= 1)) throw new JtuneException("--near-threshold must be in (0, 1]");
            if (!(minRatio >= 0 && maxRatio > minRatio)) throw new JtuneException("length ratios must satisfy 0 <= min < max");
            return new AugmentOptions(input, sheet, labels, perLabelBelow, n, attempts, holdouts, promptTemplate, nearThreshold,
                    minRatio, maxRatio, seed);
        }
    }
}
