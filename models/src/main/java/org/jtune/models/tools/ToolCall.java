package org.jtune.models.tools;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One call the model made: an id (clients send it back with the result, as {@code tool_call_id}), the function's name,
 * and its arguments as JSON text (OpenAI's {@code function.arguments}).
 */
public record ToolCall(String id, String name, String arguments) {
    /** The OpenAI form of an assistant message's tool_calls entry: {"id", "type": "function", "function": {"name", "arguments"}}. */
    public Map<String, Object> toOpenAi() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        function.put("arguments", arguments);
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", id);
        call.put("type", "function");
        call.put("function", function);
        return call;
    }
}
