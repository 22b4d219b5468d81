package org.jtune.train.data;

import java.util.Optional;
import org.jtune.models.chat.Message;

/**
 * The speaker of one message of a conversation, as written in OpenAI chat JSONL ("system", "user",
 * "assistant", "tool": a tool's result answering an assistant's tool_calls). Other formats map onto these
 * (ShareGPT's "human"/"gpt", Alpaca's instruction/output). OpenAI's deprecated "function" role is not supported.
 */
public enum Role {
    SYSTEM("system"),
    USER("user"),
    ASSISTANT("assistant"),
    TOOL("tool");

    private final String wireName;

    Role(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in OpenAI chat JSONL. */
    public String wireName() {
        return wireName;
    }

    /** The role of a message read from training data (whose roles were validated when it was read). */
    public static Role of(Message m) {
        return fromWireName(m.role()).orElseThrow(() -> new IllegalArgumentException("role \"" + m.role() + "\" is not system, user, assistant or tool"));
    }

    /** The role with this exact OpenAI wire name, or empty. */
    public static Optional<Role> fromWireName(String name) {
        for (Role r : values()) {
            if (r.wireName.equals(name)) return Optional.of(r);
        }
        return Optional.empty();
    }
}
