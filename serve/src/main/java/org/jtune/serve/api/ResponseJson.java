package org.jtune.serve.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntFunction;
import org.jtune.models.tools.ToolCall;
import org.jtune.serve.engine.GeneratedToken;

/**
 * The JSON objects of OpenAI's completion endpoints, built field by field as the API reference
 * shows them: chat.completion, chat.completion.chunk, text_completion (whole and streamed), usage, tool_calls,
 * and the two logprobs shapes (chat: content[{token, logprob, bytes, top_logprobs}]; completions:
 * tokens / token_logprobs / top_logprobs / text_offset).
 *
 * @param id          chatcmpl-... or cmpl-...
 * @param created     Unix seconds
 * @param model       the model name as the client sent it
 * @param fingerprint system_fingerprint: identifies the server build and the weights it serves
 * @param tokenText   id → the token's text, for logprobs
 */
public record ResponseJson(CompletionRequest.Kind kind, String id, long created, String model, String fingerprint,
                           IntFunction<String> tokenText) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Token counts of a request. */
    public record Usage(int promptTokens, int completionTokens) {}

    /**
     * One choice of a whole answer: its text (null: only tool calls, or only a thought), its reasoning (null: none, or not
     * a thinking model), why it ended, its tokens' logprobs (null: not asked for), and the tool calls it made (empty: none).
     */
    public record Choice(String text, String reasoning, String finishReason, List<GeneratedToken> logprobTokens, List<ToolCall> toolCalls) {}

    /** The whole answer (non-streaming), its choices indexed in order (n). */
    public ObjectNode complete(List<Choice> choices, Usage usage) {
        ObjectNode root = header(kind == CompletionRequest.Kind.CHAT ? "chat.completion" : "text_completion");
        ArrayNode array = root.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            ObjectNode choice = array.addObject();
            choice.put("index", i);
            if (kind == CompletionRequest.Kind.CHAT) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                message.put("content", c.text());
                putReasoning(message, c.reasoning());
                message.putNull("refusal");
                if (!c.toolCalls().isEmpty()) putToolCalls(message, c.toolCalls(), false);
            } else {
                choice.put("text", c.text());
            }
            putLogprobs(choice, c.logprobTokens(), 0);
            choice.put("finish_reason", c.finishReason());
        }
        putUsage(root, usage);
        return root;
    }

    /**
     * One streamed chunk of one choice with a text delta (chat: the choice's first carries the role), its tokens'
     * logprobs, and the finish reason on the choice's last.
     *
     * @param index      the choice (0 .. n − 1)
     * @param textOffset for completions' logprobs: where this delta starts in the whole text
     * @param usageField whether the chunk carries "usage": null (stream_options.include_usage)
     */
    public ObjectNode chunk(int index, String delta, boolean first, List<GeneratedToken> logprobTokens, int textOffset,
                            String finishReason, boolean usageField) {
        ObjectNode root = header(kind == CompletionRequest.Kind.CHAT ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        if (kind == CompletionRequest.Kind.CHAT) {
            ObjectNode d = choice.putObject("delta");
            if (first) d.put("role", "assistant");
            if (delta != null) d.put("content", delta);
        } else {
            choice.put("text", delta == null ? "" : delta);
        }
        putLogprobs(choice, logprobTokens, textOffset);
        if (finishReason == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finishReason);
        if (usageField) root.putNull("usage");
        return root;
    }

    /**
     * A streamed chunk of one choice carrying a piece of its reasoning (and the logprobs of the tokens that made it, when no
     * content chunk follows to carry them).
     */
    public ObjectNode reasoningChunk(int index, String delta, List<GeneratedToken> logprobTokens, boolean usageField) {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        putReasoning(choice.putObject("delta"), delta);
        putLogprobs(choice, logprobTokens, 0);
        choice.putNull("finish_reason");
        if (usageField) root.putNull("usage");
        return root;
    }

    /**
     * A thinking model's reasoning under both names clients read: "reasoning" (vLLM's since 0.11) and "reasoning_content"
     * (llama.cpp's, SGLang's, DeepSeek's API, earlier vLLM); absent when null.
     */
    private static void putReasoning(ObjectNode message, String reasoning) {
        if (reasoning == null) return;
        message.put("reasoning", reasoning);
        message.put("reasoning_content", reasoning);
    }

    /** A streamed chunk of one choice carrying its tool calls, each whole (a client's accumulator joins them as it would pieces). */
    public ObjectNode toolCallsChunk(int index, List<ToolCall> calls, boolean usageField) {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        putToolCalls(choice.putObject("delta"), calls, true);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        if (usageField) root.putNull("usage");
        return root;
    }

    /** "tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}, ...]; chunks add each call's "index". */
    private static void putToolCalls(ObjectNode message, List<ToolCall> calls, boolean indexed) {
        ArrayNode array = message.putArray("tool_calls");
        for (int i = 0; i < calls.size(); i++) {
            ToolCall call = calls.get(i);
            ObjectNode c = array.addObject();
            if (indexed) c.put("index", i);
            c.put("id", call.id());
            c.put("type", "function");
            c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
        }
    }

    /** The extra last chunk of stream_options.include_usage: no choices, the usage of the whole request. */
    public ObjectNode usageChunk(Usage usage) {
        ObjectNode root = header(kind == CompletionRequest.Kind.CHAT ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        putUsage(root, usage);
        return root;
    }

    private ObjectNode header(String object) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        root.put("system_fingerprint", fingerprint);
        return root;
    }

    private static void putUsage(ObjectNode root, Usage usage) {
        ObjectNode u = root.putObject("usage");
        u.put("prompt_tokens", usage.promptTokens());
        u.put("completion_tokens", usage.completionTokens());
        u.put("total_tokens", usage.promptTokens() + usage.completionTokens());
    }

    private void putLogprobs(ObjectNode choice, List<GeneratedToken> tokens, int textOffset) {
        if (tokens == null) {
            choice.putNull("logprobs");
            return;
        }
        ObjectNode lp = choice.putObject("logprobs");
        if (kind == CompletionRequest.Kind.CHAT) {
            ArrayNode content = lp.putArray("content");
            for (GeneratedToken t : tokens) {
                ObjectNode e = content.addObject();
                entry(e, t.id(), t.logprob());
                ArrayNode top = e.putArray("top_logprobs");
                for (int i = 0; i < t.topIds().length; i++) entry(top.addObject(), t.topIds()[i], t.topLogprobs()[i]);
            }
            lp.putNull("refusal");
        } else {
            ArrayNode toks = lp.putArray("tokens"), lps = lp.putArray("token_logprobs"), tops = lp.putArray("top_logprobs"),
                    offsets = lp.putArray("text_offset");
            int offset = textOffset;
            for (GeneratedToken t : tokens) {
                String s = tokenText.apply(t.id());
                toks.add(s);
                if (Double.isNaN(t.logprob())) { // echo: the prompt's first token, which nothing predicts
                    lps.addNull();
                    tops.addNull();
                } else {
                    lps.add(t.logprob());
                    ObjectNode top = tops.addObject();
                    for (int i = 0; i < t.topIds().length; i++) top.put(tokenText.apply(t.topIds()[i]), t.topLogprobs()[i]);
                }
                offsets.add(offset);
                offset += s.length();
            }
        }
    }

    private void entry(ObjectNode e, int id, double logprob) {
        String s = tokenText.apply(id);
        e.put("token", s);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
    }
}
