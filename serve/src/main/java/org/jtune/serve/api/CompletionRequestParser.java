package org.jtune.serve.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.OpenAiPenalties;
import org.jtune.models.structured.JsonShape;
import org.jtune.models.tools.ToolChoice;
import org.jtune.models.tools.ToolDefinition;
import org.jtune.models.tools.ToolUse;

/**
 * Reads a completion request body into a {@link CompletionRequest}, checking every parameter this
 * server knows: wrong types and out-of-range values are 400s that name the parameter and its allowed
 * range; parameters it cannot honour (functions, a streamed echo, a schema keyword
 * constrained generation cannot enforce, ...) are 400s as
 * well, never silently ignored. Fields it does not know are ignored, as OpenAI-compatible servers do
 * (clients send store, metadata, user, ...).
 */
public final class CompletionRequestParser {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Stop sequences per request at most: OpenAI takes 4; evaluation harnesses send a task's stops and the EOS (vLLM has no cap). */
    public static final int MAX_STOP = 16;
    /** Most choices one request may ask for (each is a sequence of the batch). */
    public static final int MAX_N = 16;
    /** Most prompts one completions request may hold (each is answered with n choices). */
    public static final int MAX_PROMPTS = 64;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private CompletionRequestParser() {}

    public static JsonNode readJson(byte[] body) throws ApiError {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) throw ApiError.invalid("The request body must be a JSON object.", null);
            return node;
        } catch (JsonProcessingException e) {
            throw ApiError.invalid("The request body is not valid JSON: " + e.getOriginalMessage(), null);
        } catch (java.io.IOException e) {
            throw ApiError.invalid("The request body could not be read: " + e.getMessage(), null);
        }
    }

    public static CompletionRequest parse(CompletionRequest.Kind kind, JsonNode body) throws ApiError {
        String model = requiredString(body, "model");
        List<Message> messages = null;
        List<String> promptTexts = null;
        List<int[]> promptIds = null;
        if (kind == CompletionRequest.Kind.CHAT) messages = messages(body);
        else {
            JsonNode p = body.get("prompt");
            if (p == null || p.isNull()) throw ApiError.invalid("'prompt' is required.", "prompt");
            if (p.isTextual()) promptTexts = List.of(p.asText());
            else if (p.isArray() && !p.isEmpty() && allInts(p)) promptIds = List.of(ids(p));
            else if (p.isArray() && !p.isEmpty() && all(p, JsonNode::isTextual)) {
                promptTexts = new ArrayList<>();
                for (JsonNode e : p) promptTexts.add(e.asText());
            } else if (p.isArray() && !p.isEmpty() && all(p, e -> e.isArray() && !e.isEmpty() && allInts(e))) {
                promptIds = new ArrayList<>();
                for (JsonNode e : p) promptIds.add(ids(e));
            } else {
                throw ApiError.invalid("'prompt' must be a string, an array of token ids, or a non-empty array of either.", "prompt");
            }
            int count = promptTexts != null ? promptTexts.size() : promptIds.size();
            if (count > MAX_PROMPTS) throw ApiError.invalid("'prompt' holds " + count + " prompts; at most " + MAX_PROMPTS + " per request.", "prompt");
        }
        boolean echo = kind == CompletionRequest.Kind.TEXT && optionalBoolean(body, "echo", false);
        int fewestTokens = echo ? 0 : 1; // echo with max_tokens 0 scores the prompt alone
        Integer maxTokens = optionalInt(body, "max_completion_tokens", fewestTokens, Integer.MAX_VALUE);
        if (maxTokens == null) maxTokens = optionalInt(body, "max_tokens", fewestTokens, Integer.MAX_VALUE);
        float temperature = (float) optionalNumber(body, "temperature", 0, 2, 1);
        float topP = (float) optionalNumber(body, "top_p", 0, 1, 1);
        if (!(topP > 0)) throw ApiError.invalid("'top_p' must be greater than 0 and at most 1, got " + topP + ".", "top_p");
        Long seed = null;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.canConvertToLong() || !s.isIntegralNumber()) throw ApiError.invalid("'seed' must be an integer.", "seed");
            seed = s.longValue();
        }
        Integer n = optionalInt(body, "n", 1, MAX_N);
        Integer bestOf = optionalInt(body, "best_of", 1, MAX_N);
        List<String> stop = stop(body);
        boolean stream = optionalBoolean(body, "stream", false);
        int choices = n == null ? 1 : n;
        if (bestOf == null) bestOf = choices;
        else if (kind == CompletionRequest.Kind.CHAT && bestOf != 1) {
            throw ApiError.invalid("'best_of' is taken by /v1/completions only; use 'n' and pick among the choices.", "best_of", "unsupported_parameter");
        } else if (bestOf < choices) {
            throw ApiError.invalid("'best_of' (" + bestOf + ") must be at least 'n' (" + choices + ").", "best_of");
        } else if (stream && bestOf > choices) {
            throw ApiError.invalid("'best_of' greater than 'n' cannot be streamed: the best are known only once all have ended.", "best_of");
        }
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiError.invalid("'stream_options' must be an object.", "stream_options");
            if (!stream) throw ApiError.invalid("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            includeUsage = optionalBoolean(so, "include_usage", false);
        }
        int topLogprobs = -1;
        if (kind == CompletionRequest.Kind.CHAT) {
            boolean lp = optionalBoolean(body, "logprobs", false);
            Integer top = optionalInt(body, "top_logprobs", 0, 20);
            if (top != null && !lp) throw ApiError.invalid("'top_logprobs' needs 'logprobs' set to true.", "top_logprobs");
            if (lp) topLogprobs = top == null ? 0 : top;
        } else {
            Integer lp = optionalInt(body, "logprobs", 0, 5);
            if (lp != null) topLogprobs = lp;
            if (echo && stream) throw ApiError.invalid("'echo' is answered whole: it cannot be streamed.", "echo", "unsupported_parameter");
            JsonNode suffix = body.get("suffix");
            if (suffix != null && !suffix.isNull()) throw ApiError.invalid("'suffix' is not supported.", "suffix", "unsupported_parameter");
        }
        OpenAiPenalties penalties = new OpenAiPenalties((float) optionalNumber(body, "presence_penalty", -2, 2, 0),
                (float) optionalNumber(body, "frequency_penalty", -2, 2, 0), logitBias(body.get("logit_bias")));
        JsonNode functions = body.get("functions");
        if (functions != null && !functions.isNull() && !functions.isEmpty()) {
            throw ApiError.invalid("'functions' (deprecated by OpenAI) is not supported; send 'tools'.", "functions", "unsupported_parameter");
        }
        ToolUse tools = tools(kind, body);
        JsonNode schema = jsonSchema(body.get("response_format"));
        if (schema != null && tools != null && tools.offered()) {
            throw ApiError.invalid("'response_format' cannot be combined with 'tools' (unless tool_choice is none): a tool call is JSON of its own shape.",
                    "response_format", "unsupported_parameter");
        }
        return new CompletionRequest(kind, model, messages, promptTexts, promptIds, maxTokens, temperature, topP, seed, stop,
                stream, includeUsage, topLogprobs, schema, penalties, choices, bestOf, tools, echo, templateKwargs(kind, body));
    }

    /** Variables the chat template renders with itself, or that name what the request gives elsewhere. */
    private static final java.util.Set<String> TEMPLATE_OWN = java.util.Set.of("messages", "add_generation_prompt", "tools", "bos_token",
            "eos_token", "raise_exception", "strftime_now");

    /** chat_template_kwargs (chat only): an object of further chat template variables, JSON values as the template sees them. */
    private static java.util.Map<String, Object> templateKwargs(CompletionRequest.Kind kind, JsonNode body) throws ApiError {
        JsonNode k = body.get("chat_template_kwargs");
        if (k == null || k.isNull()) return java.util.Map.of();
        if (kind != CompletionRequest.Kind.CHAT) {
            throw ApiError.invalid("'chat_template_kwargs' is taken by /v1/chat/completions only.", "chat_template_kwargs", "unsupported_parameter");
        }
        if (!k.isObject()) throw ApiError.invalid("'chat_template_kwargs' must be an object of template variables.", "chat_template_kwargs");
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        for (var e : k.properties()) {
            if (TEMPLATE_OWN.contains(e.getKey())) {
                throw ApiError.invalid("'chat_template_kwargs." + e.getKey() + "' is set by the server (or by the request's own field).",
                        "chat_template_kwargs." + e.getKey());
            }
            out.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
        }
        return out;
    }

    /** tools, tool_choice and parallel_tool_calls (chat only); null without tools. */
    private static ToolUse tools(CompletionRequest.Kind kind, JsonNode body) throws ApiError {
        JsonNode t = body.get("tools");
        JsonNode choice = body.get("tool_choice");
        boolean parallel = optionalBoolean(body, "parallel_tool_calls", true);
        if (t == null || t.isNull() || (t.isArray() && t.isEmpty())) {
            if (choice != null && !choice.isNull()) throw ApiError.invalid("'tool_choice' is only allowed when 'tools' are given.", "tool_choice");
            return null;
        }
        if (kind != CompletionRequest.Kind.CHAT) throw ApiError.invalid("'tools' are taken by /v1/chat/completions only.", "tools", "unsupported_parameter");
        List<ToolDefinition> defined;
        try {
            defined = ToolDefinition.fromOpenAi(t);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(e.getMessage() + ".", "tools");
        }
        try {
            return new ToolUse(defined, ToolChoice.fromOpenAi(choice, defined), parallel);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(e.getMessage() + ".", "tool_choice");
        }
    }

    /** logit_bias: {"token id": bias in [−100, 100], ...} (ids are checked against the vocabulary once the model is known). */
    private static Map<Integer, Float> logitBias(JsonNode lb) throws ApiError {
        if (lb == null || lb.isNull()) return Map.of();
        if (!lb.isObject()) throw ApiError.invalid("'logit_bias' must be an object mapping token ids to a bias from -100 to 100.", "logit_bias");
        Map<Integer, Float> bias = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = lb.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                id = -1;
            }
            if (id < 0) throw ApiError.invalid("'logit_bias' keys must be token ids (non-negative integers), got \"" + e.getKey() + "\".", "logit_bias");
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(v.asDouble() >= -100 && v.asDouble() <= 100)) {
                throw ApiError.invalid("'logit_bias' of token " + id + " must be a number from -100 to 100.", "logit_bias");
            }
            bias.put(id, (float) v.asDouble());
        }
        return bias;
    }

    /**
     * response_format: text (null), json_object (any object) or json_schema (its schema, compiled once here so a
     * keyword constrained generation cannot enforce is a 400 naming it; {@link JsonShape} lists the subset).
     */
    private static JsonNode jsonSchema(JsonNode rf) throws ApiError {
        if (rf == null || rf.isNull()) return null;
        if (!rf.isObject()) throw ApiError.invalid("'response_format' must be an object with a 'type'.", "response_format");
        return switch (rf.path("type").asText()) {
            case "text" -> null;
            case "json_object" -> JSON.createObjectNode().put("type", "object");
            case "json_schema" -> {
                JsonNode schema = rf.path("json_schema").get("schema");
                if (schema == null || !(schema.isObject() || schema.isBoolean())) {
                    throw ApiError.invalid("'response_format.json_schema.schema' must be a JSON Schema.", "response_format.json_schema.schema");
                }
                try {
                    JsonShape.compile(schema);
                } catch (IllegalArgumentException e) {
                    throw ApiError.invalid("response_format.json_schema: " + e.getMessage() + ".", "response_format.json_schema.schema",
                            "unsupported_parameter");
                }
                yield schema;
            }
            default -> throw ApiError.invalid("'response_format.type' must be text, json_object or json_schema.", "response_format.type");
        };
    }

    /** The body's messages (OpenAI's chat shape), checked; also what the tokenizer endpoint renders. */
    public static List<Message> messages(JsonNode body) throws ApiError {
        JsonNode ms = body.get("messages");
        if (ms == null || !ms.isArray() || ms.isEmpty()) throw ApiError.invalid("'messages' must be a non-empty array.", "messages");
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < ms.size(); i++) {
            JsonNode m = ms.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiError.invalid(where + " must be an object with 'role' and 'content'.", where);
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiError.invalid(where + ".role must be one of system, developer, user, assistant, tool.", where + ".role");
            }
            String r = role.asText().equals("developer") ? "system" : role.asText();
            Map<String, Object> fields = new LinkedHashMap<>();
            JsonNode calls = m.get("tool_calls");
            if (calls != null && !calls.isNull()) {
                if (!r.equals("assistant")) throw ApiError.invalid(where + ".tool_calls: only assistant messages carry tool calls.", where + ".tool_calls");
                toolCalls(calls, where + ".tool_calls");
                fields.put("tool_calls", JSON.convertValue(calls, Object.class));
            }
            if (r.equals("tool")) {
                JsonNode id = m.get("tool_call_id");
                if (id == null || !id.isTextual()) throw ApiError.invalid(where + ".tool_call_id: a tool message names the call it answers.", where + ".tool_call_id");
                fields.put("tool_call_id", id.asText());
            }
            JsonNode name = m.get("name");
            if (name != null && name.isTextual()) fields.put("name", name.asText());
            // an answer sent back with its thought (this server's, vLLM's or llama.cpp's field): Qwen3's template reads reasoning_content
            JsonNode thought = m.hasNonNull("reasoning_content") ? m.get("reasoning_content") : m.get("reasoning");
            if (thought != null && thought.isTextual() && r.equals("assistant")) fields.put("reasoning_content", thought.asText());
            JsonNode c = m.get("content");
            String text = fields.containsKey("tool_calls") && (c == null || c.isNull()) ? null : content(c, where + ".content");
            out.add(new Message(r, text, fields));
        }
        return out;
    }

    /** An assistant message's tool_calls: [{"id", "type": "function", "function": {"name", "arguments": JSON text}}, ...]. */
    private static void toolCalls(JsonNode calls, String where) throws ApiError {
        if (!calls.isArray()) throw ApiError.invalid(where + " must be an array.", where);
        for (int i = 0; i < calls.size(); i++) {
            JsonNode c = calls.get(i);
            String at = where + "[" + i + "]";
            if (!c.isObject() || !c.path("id").isTextual() || !"function".equals(c.path("type").asText())
                    || !c.path("function").path("name").isTextual() || !c.path("function").path("arguments").isTextual()) {
                throw ApiError.invalid(at + " must be {\"id\": ..., \"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": a JSON string}}.", at);
            }
        }
    }

    /** A string, or an array of text parts [{"type": "text", "text": ...}] joined. */
    private static String content(JsonNode c, String where) throws ApiError {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.invalid(where + ": only text parts {\"type\": \"text\", \"text\": ...} are supported.", where);
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.invalid(where + " must be a string or an array of text parts.", where);
    }

    private static List<String> stop(JsonNode body) throws ApiError {
        JsonNode s = body.get("stop");
        List<String> out = new ArrayList<>();
        if (s == null || s.isNull()) return out;
        if (s.isTextual()) out.add(s.asText());
        else if (s.isArray()) {
            for (JsonNode e : s) {
                if (!e.isTextual()) throw ApiError.invalid("'stop' must be a string or an array of strings.", "stop");
                out.add(e.asText());
            }
        } else {
            throw ApiError.invalid("'stop' must be a string or an array of strings.", "stop");
        }
        if (out.size() > MAX_STOP) throw ApiError.invalid("'stop' takes at most " + MAX_STOP + " sequences, got " + out.size() + ".", "stop");
        for (String x : out) if (x.isEmpty()) throw ApiError.invalid("'stop' sequences must not be empty.", "stop");
        return out;
    }

    private static boolean allInts(JsonNode a) {
        for (JsonNode e : a) if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0) return false;
        return true;
    }

    private static boolean all(JsonNode a, java.util.function.Predicate<JsonNode> test) {
        for (JsonNode e : a) if (!test.test(e)) return false;
        return true;
    }

    private static int[] ids(JsonNode a) {
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = a.get(i).intValue();
        return ids;
    }

    private static String requiredString(JsonNode body, String name) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) throw ApiError.invalid("'" + name + "' is required.", name);
        if (!v.isTextual() || v.asText().isEmpty()) throw ApiError.invalid("'" + name + "' must be a non-empty string.", name);
        return v.asText();
    }

    private static Integer optionalInt(JsonNode body, String name, int min, int max) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiError.invalid("'" + name + "' must be an integer.", name);
        long x = v.longValue();
        if (x < min || x > max) {
            throw ApiError.invalid("'" + name + "' must be " + (max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max)
                    + ", got " + x + ".", name);
        }
        return (int) x;
    }

    private static double optionalNumber(JsonNode body, String name, double min, double max, double absent) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return absent;
        if (!v.isNumber()) throw ApiError.invalid("'" + name + "' must be a number.", name);
        double x = v.doubleValue();
        if (!(x >= min && x <= max)) throw ApiError.invalid("'" + name + "' must be between " + fmt(min) + " and " + fmt(max) + ", got " + v.asText() + ".", name);
        return x;
    }

    private static boolean optionalBoolean(JsonNode body, String name, boolean absent) throws ApiError {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return absent;
        if (!v.isBoolean()) throw ApiError.invalid("'" + name + "' must be true or false.", name);
        return v.booleanValue();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
