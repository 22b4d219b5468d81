package org.jtune.models.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.models.chat.Message;

/** What the syntaxes share: call ids, reading a call object, and the arguments of earlier calls as templates want them. */
final class ToolCalls {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ToolCalls() {}

    /** A fresh id of {@code length} letters and digits (Mistral's templates insist on 9). */
    static String id(String prefix, int length) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int i = 0; i < length; i++) sb.append(ALPHANUMERIC.charAt(RANDOM.nextInt(ALPHANUMERIC.length())));
        return sb.toString();
    }

    /** JSON text, or null when it is not JSON. */
    static JsonNode readJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** {"name": an offered tool, "arguments": an object} as a call with a new id; null when it is not one. */
    static ToolCall call(JsonNode node, ToolUse use, String idPrefix, int idLength) {
        return call(node, "arguments", use, idPrefix, idLength);
    }

    /** A call whose arguments are under {@code argumentsKey}; null when the node is not one. */
    static ToolCall call(JsonNode node, String argumentsKey, ToolUse use, String idPrefix, int idLength) {
        if (node == null || !node.isObject() || !node.path("name").isTextual()) return null;
        JsonNode arguments = node.get(argumentsKey);
        if (arguments == null || !arguments.isObject() || use.tool(node.get("name").asText()) == null) return null;
        return new ToolCall(id(idPrefix, idLength), node.get("name").asText(), arguments.toString());
    }

    /** The calls of a JSON list, or null when any entry is not a call. */
    static List<ToolCall> calls(JsonNode list, ToolUse use, String idPrefix, int idLength) {
        if (list == null || !list.isArray() || list.isEmpty()) return null;
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode n : list) {
            ToolCall c = call(n, use, idPrefix, idLength);
            if (c == null) return null;
            calls.add(c);
        }
        return calls;
    }

    /** The tool_calls of an assistant message (OpenAI form), or an empty list. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> of(Message m) {
        Object calls = m.fields().get("tool_calls");
        if (!(calls instanceof List<?> list)) return List.of();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object c : list) if (c instanceof Map<?, ?> map) out.add((Map<String, Object>) map);
        return out;
    }

    /** A call's function.arguments read as JSON (clients send it as a string; templates print it as an object). */
    @SuppressWarnings("unchecked")
    static Object arguments(Map<String, Object> call) {
        Object function = call.get("function");
        Object arguments = function instanceof Map<?, ?> f ? ((Map<String, Object>) f).get("arguments") : null;
        if (arguments instanceof String s) {
            JsonNode parsed = readJson(s);
            return parsed == null ? s : JSON.convertValue(parsed, Object.class);
        }
        return arguments;
    }

    /** A call's function.name. */
    @SuppressWarnings("unchecked")
    static Object name(Map<String, Object> call) {
        Object function = call.get("function");
        return function instanceof Map<?, ?> f ? ((Map<String, Object>) f).get("name") : null;
    }

    /** An assistant message whose tool_calls carry their arguments as JSON values rather than text. */
    @SuppressWarnings("unchecked")
    static Message withArgumentObjects(Message m) {
        List<Map<String, Object>> calls = of(m);
        if (calls.isEmpty()) return m;
        List<Object> converted = new ArrayList<>();
        for (Map<String, Object> call : calls) {
            Map<String, Object> c = new LinkedHashMap<>(call);
            if (call.get("function") instanceof Map<?, ?> f) {
                Map<String, Object> function = new LinkedHashMap<>((Map<String, Object>) f);
                function.put("arguments", arguments(call));
                c.put("function", function);
            }
            converted.add(c);
        }
        Map<String, Object> fields = new LinkedHashMap<>(m.fields());
        fields.put("tool_calls", converted);
        return new Message(m.role(), m.content(), fields);
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
