package org.jtune.train.recipe;

import java.nio.file.Path;
import java.util.Locale;

/**
 * One entry of a recipe's {@code datasets} list: a JSONL file (absolute once read), its format, and
 * optionally the split to take (a name such as "train" recorded for reports; null = the whole file).
 */
public record DatasetSpec(Path path, Type type, String split) {
    /** Row formats (the data module reads each). */
    public enum Type {
        /** OpenAI-style {"messages": [{"role", "content"}, …]}. */
        CHAT,
        /** {"instruction", "input", "output"}. */
        ALPACA,
        /** {"conversations": [{"from", "value"}, …]}. */
        SHAREGPT,
        /** {"prompt", "completion"}. */
        COMPLETION,
        /** {"text"}: plain language-model text, loss on every token. */
        TEXT;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public DatasetSpec {
        if (path == null) throw new IllegalArgumentException("dataset path is required");
        if (type == null) throw new IllegalArgumentException("dataset type is required");
    }
}
