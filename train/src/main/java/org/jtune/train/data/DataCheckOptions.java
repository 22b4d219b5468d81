package org.jtune.train.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of a data check; build with {@link #builder(Path)}. Each default carries its reason.
 *
 * @param data                  the training file
 * @param validation            the validation file, or null
 * @param format                the format every line must have, or null to detect it per file
 * @param sequenceLength        examples with more tokens are warned about; 0 when no length is known (no limit checked)
 * @param tokenCounter          counts tokens of rendered examples
 * @param chatRenderer          renders chat examples before counting
 * @param maxLabels             most distinct answers for data to count as classification-style
 * @param imbalanceWarningRatio warn when the largest label count exceeds the smallest by more than this
 * @param maxLineBytes          longer lines are errors and are not parsed
 */
public record DataCheckOptions(Path data, Path validation, DatasetFormat format, int sequenceLength,
                               TokenCounter tokenCounter, ChatRenderer chatRenderer, int maxLabels,
                               double imbalanceWarningRatio, int maxLineBytes) {
    public DataCheckOptions {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(tokenCounter, "tokenCounter");
        Objects.requireNonNull(chatRenderer, "chatRenderer");
        if (sequenceLength < 0) throw new IllegalArgumentException("sequenceLength must be >= 0, got " + sequenceLength);
        if (maxLabels < 2) throw new IllegalArgumentException("maxLabels must be >= 2, got " + maxLabels);
        if (!(imbalanceWarningRatio >= 1)) throw new IllegalArgumentException("imbalanceWarningRatio must be >= 1");
        if (maxLineBytes < 1) throw new IllegalArgumentException("maxLineBytes must be >= 1");
    }

    public static Builder builder(Path data) {
        return new Builder(data);
    }

    public static final class Builder {
        private final Path data;
        private Path validation;
        private DatasetFormat format;
        /** None: the caller gives the recipe's sequence_len or the model's context (`jtune data check` does). */
        private int sequenceLength = 0;
        /** Whitespace words when no model is given (--model counts with its tokenizer). */
        private TokenCounter tokenCounter = new WhitespaceTokenCounter();
        /** Template-free rendering when no model is given (--model renders with its chat template). */
        private ChatRenderer chatRenderer = ChatRenderer.plain();
        /** 50: intent and topic classifiers rarely have more; free-text answers have far more. */
        private int maxLabels = LabelDistribution.DEFAULT_MAX_LABELS;
        /** 10: beyond this the rare labels get too few gradient steps without reweighting. */
        private double imbalanceWarningRatio = 10;
        private int maxLineBytes = JsonlLineReader.DEFAULT_MAX_LINE_BYTES;

        private Builder(Path data) {
            this.data = data;
        }

        public Builder validation(Path v) { this.validation = v; return this; }
        public Builder format(DatasetFormat f) { this.format = f; return this; }
        public Builder sequenceLength(int n) { this.sequenceLength = n; return this; }
        public Builder tokenCounter(TokenCounter c) { this.tokenCounter = c; return this; }
        public Builder chatRenderer(ChatRenderer r) { this.chatRenderer = r; return this; }
        /** Counts with a model's tokenizer and renders chat examples with its template ({@link ModelTokenCounter#renderer}). */
        public Builder model(ModelTokenCounter c) { return tokenCounter(c).chatRenderer(c.renderer()); }
        public Builder maxLabels(int n) { this.maxLabels = n; return this; }
        public Builder imbalanceWarningRatio(double r) { this.imbalanceWarningRatio = r; return this; }
        public Builder maxLineBytes(int n) { this.maxLineBytes = n; return this; }

        public DataCheckOptions build() {
            return new DataCheckOptions(data, validation, format, sequenceLength, tokenCounter, chatRenderer,
                    maxLabels, imbalanceWarningRatio, maxLineBytes);
        }
    }
}
