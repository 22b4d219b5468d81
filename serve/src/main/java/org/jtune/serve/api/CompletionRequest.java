package org.jtune.serve.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.OpenAiPenalties;
import org.jtune.models.tools.ToolUse;

/**
 * A validated /v1/chat/completions or /v1/completions request: the parameters this server honours,
 * each already checked for type and range by {@link CompletionRequestParser}.
 *
 * @param kind         which endpoint
 * @param model        the served name the client asked for
 * @param messages     the conversation (chat), else null
 * @param promptTexts  the prompts as text (completions with a string prompt or a list of them), else null
 * @param promptIds    the prompts as token ids (completions with a token array or a list of them), else null
 * @param maxTokens    max_completion_tokens / max_tokens, or null: as many as the context leaves
 * @param temperature  0..2 (OpenAI's default 1)
 * @param topP         (0, 1]
 * @param seed         null: a fresh seed per request
 * @param stop         up to {@value CompletionRequestParser#MAX_STOP} stop strings (never empty strings)
 * @param stream       answer with server-sent events
 * @param includeUsage stream_options.include_usage: a last chunk carries usage
 * @param topLogprobs  −1: no logprobs; else how many alternatives per token (chat: top_logprobs 0..20 with
 *                     logprobs true; completions: logprobs 0..5)
 * @param jsonSchema   response_format: the JSON Schema the output must follow ({"type": "object"} for json_object,
 *                     already checked to be enforceable), or null for free text
 * @param penalties    presence_penalty, frequency_penalty and logit_bias (token ids not yet checked against the vocabulary)
 * @param n            how many choices to answer with (1..{@value CompletionRequestParser#MAX_N})
 * @param bestOf       how many to generate (n..{@value CompletionRequestParser#MAX_N}; completions' best_of): the n with the
 *                     highest log-probability per token are the answer
 * @param tools        tools, tool_choice and parallel_tool_calls (chat), or null without tools
 * @param echo         completions: the answer's text starts with the prompt, and its logprobs (when asked) with the
 *                     prompt's tokens, the first without a log-probability (OpenAI's echo; lm-evaluation-harness scores
 *                     continuations with it); maxTokens may then be 0
 * @param templateKwargs chat: chat_template_kwargs (vLLM's), further variables of the chat template, such as Qwen3's
 *                     {@code enable_thinking}; empty when not given
 */
public record CompletionRequest(Kind kind, String model, List<Message> messages, List<String> promptTexts, List<int[]> promptIds,
                                Integer maxTokens, float temperature, float topP, Long seed, List<String> stop,
                                boolean stream, boolean includeUsage, int topLogprobs, JsonNode jsonSchema,
                                OpenAiPenalties penalties, int n, int bestOf, ToolUse tools, boolean echo,
                                java.util.Map<String, Object> templateKwargs) {
    public enum Kind {
        CHAT("/v1/chat/completions", "chatcmpl-"),
        TEXT("/v1/completions", "cmpl-");

        public final String path;
        public final String idPrefix;

        Kind(String path, String idPrefix) {
            this.path = path;
            this.idPrefix = idPrefix;
        }
    }

    public boolean logprobs() {
        return topLogprobs >= 0;
    }

    /** How many prompts: 1 for chat, else the completions' prompts (choice p·n + i answers prompt p). */
    public int prompts() {
        return promptTexts != null ? promptTexts.size() : promptIds != null ? promptIds.size() : 1;
    }
}
