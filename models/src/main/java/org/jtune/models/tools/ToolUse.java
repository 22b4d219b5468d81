package org.jtune.models.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The tools of one request and how they may be used: the functions, OpenAI's tool_choice, and parallel_tool_calls (false:
 * at most one call per answer). Builds the JSON Schemas that calls are generated under.
 */
public record ToolUse(List<ToolDefinition> tools, ToolChoice choice, boolean parallel) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ToolUse {
        tools = List.copyOf(tools);
        if (tools.isEmpty()) throw new IllegalArgumentException("tool use needs at least one tool");
    }

    /** Whether the model is offered the tools at all (not tool_choice "none"). */
    public boolean offered() {
        return choice.mode() != ToolChoice.Mode.NONE;
    }

    /** The tools as chat templates read their {@code tools} variable ({@link ToolDefinition#toTemplateValue}). */
    public List<Object> templateValues() {
        List<Object> values = new java.util.ArrayList<>();
        for (ToolDefinition t : tools) values.add(t.toTemplateValue());
        return values;
    }

    /** The tools a call may name: the one tool_choice names, else all. */
    public List<ToolDefinition> callable() {
        if (choice.mode() != ToolChoice.Mode.FUNCTION) return tools;
        return tools.stream().filter(t -> t.name().equals(choice.function())).toList();
    }

    /** The tool of a name, or null. */
    public ToolDefinition tool(String name) {
        for (ToolDefinition t : tools) if (t.name().equals(name)) return t;
        return null;
    }

    /** One call: {"name": one of {@link #callable}, "arguments": that tool's arguments}, name first. */
    public ObjectNode callSchema() {
        return callSchema("arguments");
    }

    /** One call whose arguments are under {@code argumentsKey} (Llama 3.1 writes "parameters"). */
    public ObjectNode callSchema(String argumentsKey) {
        List<ToolDefinition> callable = callable();
        if (callable.size() == 1) return callOf(callable.getFirst(), argumentsKey);
        ObjectNode any = JSON.createObjectNode();
        ArrayNode options = any.putArray("anyOf");
        for (ToolDefinition t : callable) options.add(callOf(t, argumentsKey));
        return any;
    }

    /** A list of calls: at least one, at most one unless parallel. */
    public ObjectNode callListSchema() {
        ObjectNode list = JSON.createObjectNode().put("type", "array");
        list.set("items", callSchema());
        list.put("minItems", 1);
        if (!parallel) list.put("maxItems", 1);
        return list;
    }

    private static ObjectNode callOf(ToolDefinition t, String argumentsKey) {
        ObjectNode call = JSON.createObjectNode().put("type", "object");
        ObjectNode properties = call.putObject("properties");
        properties.putObject("name").put("const", t.name());
        properties.set(argumentsKey, t.argumentsSchema());
        call.putArray("required").add("name").add(argumentsKey);
        call.put("additionalProperties", false);
        return call;
    }
}
