package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.List;

/**
 * Renders the messages of a chat example to the text the model is trained on, so that its tokens
 * can be counted: through the model's chat template when a model is given, else {@link #plain()}
 * ("role: content" lines). Completion data is never rendered through this: it is counted as
 * prompt followed by completion.
 */
@FunctionalInterface
public interface ChatRenderer {
    String render(List<Message> messages);

    /** "role: content" per message, one per line: a template-free approximation. */
    static ChatRenderer plain() {
        return messages -> {
            StringBuilder sb = new StringBuilder();
            for (Message m : messages) {
                sb.append(m.role()).append(": ").append(m.content()).append('\n');
            }
            return sb.toString();
        };
    }
}
