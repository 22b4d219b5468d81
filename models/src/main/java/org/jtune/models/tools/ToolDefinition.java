package org.jtune.models.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jtune.models.structured.JsonShape;

/**
 * A function the model may call, as OpenAI's {@code tools} list gives it: a name, what it does, the JSON Schema of its
 * arguments (an object), and {@code strict}. The arguments of a call are generated under that schema when it is
 * enforceable ({@link JsonShape}); a strict tool whose schema is not is refused, a non-strict one gets arguments that are
 * only guaranteed to be a JSON object (OpenAI promises no more without strict).
 *
 * @param parameters the arguments' schema, or null (no arguments: an empty object)
 */
public record ToolDefinition(String name, String description, JsonNode parameters, boolean strict) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    public ToolDefinition {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a function name must be 1 to 64 letters, digits, '_' or '-', got " + (name == null ? "none" : "\"" + name + "\""));
        }
    }

    /**
     * The tools of a request: [{"type": "function", "function": {"name", "description", "parameters", "strict"}}, ...].
     * An {@link IllegalArgumentException} names the entry ("tools[1].function.name: ...").
     */
    public static List<ToolDefinition> fromOpenAi(JsonNode tools) {
        if (tools == null || !tools.isArray() || tools.isEmpty()) throw new IllegalArgumentException("tools: must be a non-empty array");
        List<ToolDefinition> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode t = tools.get(i);
            if (!t.isObject() || !"function".equals(t.path("type").asText())) throw new IllegalArgumentException(where + ": must be {\"type\": \"function\", \"function\": {...}}");
            JsonNode f = t.get("function");
            if (f == null || !f.isObject()) throw new IllegalArgumentException(where + ".function: must be an object with a \"name\"");
            if (!f.path("name").isTextual()) throw new IllegalArgumentException(where + ".function.name: must be a string");
            JsonNode description = f.get("description");
            if (description != null && !description.isNull() && !description.isTextual()) throw new IllegalArgumentException(where + ".function.description: must be a string");
            JsonNode parameters = f.get("parameters");
            if (parameters != null && parameters.isNull()) parameters = null;
            if (parameters != null && !parameters.isObject()) throw new IllegalArgumentException(where + ".function.parameters: must be a JSON Schema object");
            if (parameters != null && parameters.has("type") && !"object".equals(parameters.get("type").asText())) {
                throw new IllegalArgumentException(where + ".function.parameters: the arguments must be an object (\"type\": \"object\")");
            }
            JsonNode strict = f.get("strict");
            if (strict != null && !strict.isNull() && !strict.isBoolean()) throw new IllegalArgumentException(where + ".function.strict: must be true or false");
            ToolDefinition tool;
            try {
                tool = new ToolDefinition(f.get("name").asText(), description == null || description.isNull() ? null : description.asText(), parameters,
                        strict != null && strict.asBoolean());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ".function.name: " + e.getMessage());
            }
            if (!names.add(tool.name())) throw new IllegalArgumentException(where + ".function.name: \"" + tool.name() + "\" is defined twice");
            if (tool.strict()) {
                try {
                    JsonShape.compile(tool.argumentsSchema());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ".function.parameters: " + e.getMessage() + " (strict tools are generated under their whole schema)");
                }
            }
            out.add(tool);
        }
        return out;
    }

    /**
     * The schema a call's arguments are generated under: the tool's parameters when enforceable, else any JSON object
     * (a strict tool's schema was checked to be enforceable when it was read).
     */
    public JsonNode argumentsSchema() {
        ObjectNode anyObject = JSON.createObjectNode().put("type", "object");
        if (parameters == null) return anyObject;
        try {
            JsonShape.compile(parameters);
            return parameters;
        } catch (IllegalArgumentException e) {
            if (strict) return parameters;
            return anyObject;
        }
    }

    /** The OpenAI form templates receive in their {@code tools} variable: {"type": "function", "function": {...}}. */
    public Map<String, Object> toTemplateValue() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        if (description != null) function.put("description", description);
        function.put("parameters", parameters == null ? Map.of("type", "object", "properties", Map.of()) : JSON.convertValue(parameters, Object.class));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        return tool;
    }
}
