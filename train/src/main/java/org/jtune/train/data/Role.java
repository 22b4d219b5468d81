package org.jtune.train.data;

import java.util.Optional;

/**
 * The speaker of one message of a conversation, as written in OpenAI chat JSONL ("system", "user",
 * "assistant"). Other formats map onto these (ShareGPT's "human"/"gpt", Alpaca's instruction/output).
 * Tool and function roles are not supported: a line that uses them is reported as an unknown role.
 */
public enum Role {
    SYSTEM("system"),
    USER("user"),
    ASSISTANT("assistant");

    private final String wireName;

    Role(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in OpenAI chat JSONL. */
    public String wireName() {
        return wireName;
    }

    /** The role with this exact OpenAI wire name, or empty. */
    public static Optional<Role> fromWireName(String name) {
        for (Role r : values()) {
            if (r.wireName.equals(name)) return Optional.of(r);
        }
        return Optional.empty();
    }
}
