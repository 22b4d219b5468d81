package org.jtune.models.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * One chat message as chat templates see it: a role ("system", "user", "assistant", "tool"), its text, and
 * any other fields of the OpenAI message format (tool_calls, tool_call_id, name, or a structured content
 * list) passed to the template unchanged.
 *
 * @param content the text, or null (an assistant message with only tool_calls)
 * @param fields  other keys of the message; a "content" here (e.g. a list of parts) replaces the text
 */
public record Message(String role, String content, Map<String, Object> fields) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public Message {
        if (role == null || role.isEmpty()) throw new IllegalArgumentException("a message needs a role");
        fields = fields == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public Message(String role, String content) {
        this(role, content, Map.of());
    }

    public static Message system(String content) {
        return new Message("system", content);
    }

    public static Message user(String content) {
        return new Message("user", content);
    }

    public static Message assistant(String content) {
        return new Message("assistant", content);
    }

    /** A message from its OpenAI JSON form {"role": ..., "content": ..., ...}. */
    public static Message fromJson(JsonNode node) throws JtuneException {
        if (node == null || !node.isObject()) throw new JtuneException("a message must be a JSON object with \"role\" and \"content\"");
        JsonNode role = node.get("role");
        if (role == null || !role.isTextual() || role.asText().isEmpty()) throw new JtuneException("a message needs a non-empty string \"role\"");
        JsonNode content = node.get("content");
        String text = null;
        Map<String, Object> fields = new LinkedHashMap<>();
        if (content != null && content.isTextual()) text = content.asText();
        else if (content != null && !content.isNull()) fields.put("content", JSON.convertValue(content, Object.class));
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("role") || e.getKey().equals("content")) continue;
            fields.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
        }
        return new Message(role.asText(), text, fields);
    }

    /** The map a template reads: role, content, then the other fields. */
    public Map<String, Object> toTemplateValue() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        m.putAll(fields);
        return m;
    }
}
