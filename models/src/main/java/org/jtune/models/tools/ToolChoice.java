package org.jtune.models.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * OpenAI's {@code tool_choice}: NONE (the model answers in text and sees no tools), AUTO (it decides), REQUIRED (it
 * calls one or more tools), or FUNCTION (it calls the function named).
 *
 * @param function the function of FUNCTION, else null
 */
public record ToolChoice(Mode mode, String function) {
    public enum Mode { NONE, AUTO, REQUIRED, FUNCTION }

    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
    public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
    public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

    /**
     * "none", "auto", "required" or {"type": "function", "function": {"name": ...}} naming one of {@code tools}; absent (null)
     * is "auto". An {@link IllegalArgumentException} says what is wrong.
     */
    public static ToolChoice fromOpenAi(JsonNode choice, List<ToolDefinition> tools) {
        if (choice == null || choice.isNull()) return AUTO;
        if (choice.isTextual()) {
            return switch (choice.asText()) {
                case "none" -> NONE;
                case "auto" -> AUTO;
                case "required" -> REQUIRED;
                default -> throw new IllegalArgumentException("tool_choice: must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            };
        }
        String name = choice.path("function").path("name").asText(null);
        if (!choice.isObject() || !"function".equals(choice.path("type").asText()) || name == null) {
            throw new IllegalArgumentException("tool_choice: must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
        }
        for (ToolDefinition t : tools) if (t.name().equals(name)) return new ToolChoice(Mode.FUNCTION, name);
        throw new IllegalArgumentException("tool_choice: names the function \"" + name + "\", which is not among the tools");
    }

    /** Whether the model must call (REQUIRED or FUNCTION). */
    public boolean forced() {
        return mode == Mode.REQUIRED || mode == Mode.FUNCTION;
    }
}
