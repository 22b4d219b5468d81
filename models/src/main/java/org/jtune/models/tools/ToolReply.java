package org.jtune.models.tools;

import java.util.List;

/**
 * What an answer holds once its tool calls are read out of the generated text: the text meant for the user (null when
 * there is none) and the calls, in order (empty when the model answered without calling).
 */
public record ToolReply(String content, List<ToolCall> calls) {
    public ToolReply {
        calls = List.copyOf(calls);
    }

    /** Plain text, no calls. */
    public static ToolReply text(String content) {
        return new ToolReply(content, List.of());
    }
}
