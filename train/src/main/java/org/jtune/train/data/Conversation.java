package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.List;
import java.util.Objects;
import org.jtune.models.tools.ToolDefinition;
import java.util.Optional;

/**
 * One training example in normalised form, whatever the file format: the messages in order, where
 * the example was read from and the format it was read as. Completion data (formats COMPLETION and
 * TEXT, see {@link #isCompletion()}) is held as at most one user message (the prompt; absent for
 * TEXT) followed by one assistant message (the text to learn); a trainer concatenates them without a
 * chat template. A validated conversation has non-empty content everywhere, an optional leading
 * system message, then alternating user/assistant turns with at least one assistant turn; in chat data an
 * assistant turn may instead call tools (its {@code tool_calls} field, content "" when it has none), answered by
 * one "tool" message per call before the assistant speaks again, and may carry its thought ({@code reasoning_content}).
 *
 * @param tools the tools the conversation offered the model (chat data's "tools"), rendered by the template; empty: none
 */
public record Conversation(List<Message> messages, SourceLine source, DatasetFormat format, List<ToolDefinition> tools) {
    /** The message field of a per-message loss weight (Axolotl's "weight": 1 trained, 0 not), as the reader keeps it. */
    public static final String WEIGHT = "weight";

    public Conversation {
        messages = List.copyOf(messages);
        tools = tools == null ? List.of() : List.copyOf(tools);
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
    }

    /** A conversation without tools. */
    public Conversation(List<Message> messages, SourceLine source, DatasetFormat format) {
        this(messages, source, format, List.of());
    }

    /** A chat conversation made in memory (a library's training or test example); its source reads "examples:1". */
    public static Conversation of(Message... messages) {
        return new Conversation(List.of(messages), new SourceLine(java.nio.file.Path.of("examples"), 1), DatasetFormat.CHAT);
    }

    public boolean isCompletion() {
        return format.isCompletion();
    }

    /** The leading system message's content, if there is one. */
    public Optional<String> systemPrompt() {
        return !messages.isEmpty() && Role.of(messages.getFirst()) == Role.SYSTEM
                ? Optional.of(messages.getFirst().content()) : Optional.empty();
    }

    /** The index of the last assistant message, or -1. */
    public int lastAssistantIndex() {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (Role.of(messages.get(i)) == Role.ASSISTANT) return i;
        }
        return -1;
    }

    /** The content of the last assistant message (the answer), or empty. */
    public Optional<String> finalAnswer() {
        int i = lastAssistantIndex();
        return i < 0 ? Optional.empty() : Optional.of(messages.get(i).content());
    }

    /** The messages before the last assistant message: what the answer responds to. */
    public List<Message> input() {
        int i = lastAssistantIndex();
        return i < 0 ? messages : messages.subList(0, i);
    }

    /** Total characters of content over all messages. */
    public long characters() {
        long n = 0;
        for (Message m : messages) n += m.content() == null ? 0 : m.content().length();
        return n;
    }
}
