package org.jtune.train.data;

import org.jtune.models.chat.Message;

/**
 * Renders the messages of a chat example to the text the model is trained on, so that its tokens
 * can be counted: through the model's chat template when a model is given, else {@link #plain()}
 * ("role: content" lines). Completion data is never rendered through this: it is counted as
 * prompt followed by completion. Tool use is written as training writes it (through the template's tool syntax).
 */
@FunctionalInterface
public interface ChatRenderer {
    String render(Conversation conversation);

    /** "role: content" per message, one per line: a template-free approximation. */
    static ChatRenderer plain() {
        return c -> {
            StringBuilder sb = new StringBuilder();
            for (Message m : c.messages()) {
                sb.append(m.role()).append(": ").append(m.content()).append('\n');
            }
            return sb.toString();
        };
    }
}
