package org.jtune.train.data.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Optional;

/**
 * The JSONL layouts `jtune data convert` writes, each one a format {@link
 * org.jtune.train.data.DatasetReader} reads back:
 * <pre>
 * chat        {"messages":[{"role":"system",..},{"role":"user",..},{"role":"assistant",..}]}
 * completion  {"prompt":user,"completion":assistant}              (no system prompt)
 * alpaca      {"instruction":user,"input":input,"output":assistant[,"system":system]}
 * </pre>
 */
public enum TargetFormat {
    CHAT, COMPLETION, ALPACA;

    private static final ObjectMapper JSON = new ObjectMapper();

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<TargetFormat> fromId(String id) {
        for (TargetFormat f : values()) if (f.id().equalsIgnoreCase(id)) return Optional.of(f);
        return Optional.empty();
    }

    /** Whether the layout has a place for a system prompt. */
    public boolean hasSystem() {
        return this != COMPLETION;
    }

    /** Whether the layout has a separate input field (Alpaca's "input"). */
    public boolean hasInput() {
        return this == ALPACA;
    }

    /**
     * One output row.
     *
     * @param system    the system prompt, or null
     * @param user      the user text (instruction, prompt)
     * @param input     Alpaca's input, or null
     * @param assistant the answer
     */
    public ObjectNode row(String system, String user, String input, String assistant) {
        ObjectNode o = JSON.createObjectNode();
        switch (this) {
            case CHAT -> {
                ArrayNode messages = o.putArray("messages");
                if (system != null) messages.addObject().put("role", "system").put("content", system);
                messages.addObject().put("role", "user").put("content", user);
                messages.addObject().put("role", "assistant").put("content", assistant);
            }
            case COMPLETION -> {
                o.put("prompt", user);
                o.put("completion", assistant);
            }
            case ALPACA -> {
                o.put("instruction", user);
                o.put("input", input == null ? "" : input);
                o.put("output", assistant);
                if (system != null) o.put("system", system);
            }
        }
        return o;
    }
}
