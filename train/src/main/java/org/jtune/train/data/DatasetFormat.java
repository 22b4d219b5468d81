package org.jtune.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Optional;

/**
 * The JSONL dataset layouts jtune reads, and how a line's keys identify them. All are normalised to
 * a {@link Conversation}; COMPLETION and TEXT stay marked as completion data (no chat template,
 * see {@link #isCompletion()}).
 *
 * <pre>
 * CHAT        {"messages":[{"role":"system"|"user"|"assistant","content":".."},..]}   (OpenAI)
 * ALPACA      {"instruction":"..","input":"..","output":".."}   (input and system optional)
 * SHAREGPT    {"conversations":[{"from":"system"|"human"|"gpt","value":".."},..]}
 * COMPLETION  {"prompt":"..","completion":".."}
 * TEXT        {"text":".."}
 * </pre>
 */
public enum DatasetFormat {
    CHAT("chat", "OpenAI chat {\"messages\":[{\"role\",\"content\"}]}"),
    ALPACA("alpaca", "Alpaca {\"instruction\",\"input\",\"output\"}"),
    SHAREGPT("sharegpt", "ShareGPT {\"conversations\":[{\"from\",\"value\"}]}"),
    COMPLETION("completion", "completion {\"prompt\",\"completion\"}"),
    TEXT("text", "plain text {\"text\"}");

    private final String id;
    private final String description;

    DatasetFormat(String id, String description) {
        this.id = id;
        this.description = description;
    }

    /** Short name used on the command line and in JSON ("chat", "alpaca", ...). */
    public String id() {
        return id;
    }

    /** Human description including the expected keys. */
    public String description() {
        return description;
    }

    /** True for formats a trainer should treat as raw completion data rather than chat. */
    public boolean isCompletion() {
        return this == COMPLETION || this == TEXT;
    }

    /** The format named by {@link #id()} (case-insensitive), or empty. */
    public static Optional<DatasetFormat> fromId(String id) {
        for (DatasetFormat f : values()) {
            if (f.id.equals(id.toLowerCase(Locale.ROOT))) return Optional.of(f);
        }
        return Optional.empty();
    }

    /**
     * The format a JSON object's keys point to, or empty when they match none. The distinguishing
     * keys are checked in a fixed order: messages, conversations, instruction or output (Alpaca),
     * completion or prompt, text.
     */
    public static Optional<DatasetFormat> detect(JsonNode object) {
        if (object == null || !object.isObject()) return Optional.empty();
        if (object.has("messages")) return Optional.of(CHAT);
        if (object.has("conversations")) return Optional.of(SHAREGPT);
        if (object.has("instruction") || object.has("output")) return Optional.of(ALPACA);
        if (object.has("completion") || object.has("prompt")) return Optional.of(COMPLETION);
        if (object.has("text")) return Optional.of(TEXT);
        return Optional.empty();
    }

    /** A one-line list of all formats and their keys, for error messages. */
    public static String allDescriptions() {
        StringBuilder sb = new StringBuilder();
        for (DatasetFormat f : values()) {
            if (!sb.isEmpty()) sb.append("; ");
            sb.append(f.description);
        }
        return sb.toString();
    }
}
