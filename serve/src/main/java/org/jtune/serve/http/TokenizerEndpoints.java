package org.jtune.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.serve.api.ApiError;
import org.jtune.serve.api.CompletionRequestParser;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.text.PromptCodec;

/**
 * The served model's tokenizer over HTTP, in vLLM's shapes, so that clients count and cut tokens as the server does
 * (lm-evaluation-harness uses them instead of a tokenizer of its own when all three answer):
 * <pre>
 *   POST /tokenize        {"prompt": text, "add_special_tokens": true} or {"messages": [...], "add_generation_prompt": true}
 *                         → {"count", "max_model_len", "tokens"}
 *   POST /detokenize      {"tokens": [ids]} → {"prompt": text}
 *   GET  /tokenizer_info  {"bos_token", "eos_token", "pad_token", "chat_template", "model_max_length", "vocab_size"}
 * </pre>
 * "model" may name any served name; messages are rendered with that name's chat template (and recorded system message),
 * as a chat request would be.
 */
final class TokenizerEndpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Engine engine;
    private final PromptCodec codec;

    TokenizerEndpoints(Engine engine, PromptCodec codec) {
        this.engine = engine;
        this.codec = codec;
    }

    void tokenize(Exchange ex, byte[] body) throws ApiError, IOException {
        JsonNode json = CompletionRequestParser.readJson(body);
        String model = model(json);
        int[] ids;
        if (json.has("messages")) {
            List<Message> messages = CompletionRequestParser.messages(json);
            if (codec.format(model).template() == null) throw ApiError.invalid("The model '" + model + "' has no chat template.", "messages");
            if (json.has("add_generation_prompt") && !json.get("add_generation_prompt").asBoolean(true)) {
                throw ApiError.invalid("Only add_generation_prompt true is supported: messages are rendered as a chat request's are.",
                        "add_generation_prompt", "unsupported_parameter");
            }
            try {
                ids = codec.chat(model, messages).ids();
            } catch (JtuneException e) {
                throw ApiError.invalid("The messages cannot be rendered with the chat template: " + e.getMessage(), "messages");
            }
        } else {
            JsonNode prompt = json.get("prompt");
            if (prompt == null || !prompt.isTextual()) throw ApiError.invalid("'prompt' (a string) or 'messages' is required.", "prompt");
            JsonNode special = json.get("add_special_tokens");
            if (special != null && !special.isBoolean()) throw ApiError.invalid("'add_special_tokens' must be a boolean.", "add_special_tokens");
            ids = codec.tokenizer().encode(prompt.asText(), special == null || special.asBoolean());
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("count", ids.length);
        o.put("max_model_len", engine.contextLength());
        ArrayNode tokens = o.putArray("tokens");
        for (int id : ids) tokens.add(id);
        ex.json(200, o);
    }

    void detokenize(Exchange ex, byte[] body) throws ApiError, IOException {
        JsonNode json = CompletionRequestParser.readJson(body);
        model(json);
        JsonNode tokens = json.get("tokens");
        if (tokens == null || !tokens.isArray()) throw ApiError.invalid("'tokens' (an array of token ids) is required.", "tokens");
        int vocab = codec.tokenizer().vocabSize();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.intValue() < 0 || t.intValue() >= vocab) {
                throw ApiError.invalid("'tokens[" + i + "]' must be a token id in 0.." + (vocab - 1) + ", got " + t + ".", "tokens");
            }
            ids[i] = t.intValue();
        }
        ex.json(200, JSON.createObjectNode().put("prompt", codec.decode(ids)));
    }

    void info(Exchange ex, String model) throws ApiError, IOException {
        if (model != null && !engine.modelNames().contains(model)) throw ApiError.unknownModel(model, engine.modelNames());
        ChatTemplate template = codec.format(model == null ? engine.modelNames().getFirst() : model).template();
        ObjectNode o = JSON.createObjectNode();
        putToken(o, "bos_token", codec.tokenizer().bosId());
        int[] eos = codec.tokenizer().eosIds();
        putToken(o, "eos_token", eos.length == 0 ? -1 : eos[0]);
        o.putNull("pad_token");
        if (template == null) o.putNull("chat_template");
        else o.put("chat_template", template.source());
        o.put("model_max_length", engine.contextLength());
        o.put("vocab_size", codec.tokenizer().vocabSize());
        ex.json(200, o);
    }

    private void putToken(ObjectNode o, String key, int id) {
        String s = id < 0 ? null : codec.tokenizer().tokenString(id);
        if (s == null) o.putNull(key);
        else o.put(key, s);
    }

    /** The served name a request names (absent: the base model); 404 for an unknown one. */
    private String model(JsonNode json) throws ApiError {
        JsonNode m = json.get("model");
        if (m == null || m.isNull()) return engine.modelNames().getFirst();
        if (!m.isTextual()) throw ApiError.invalid("'model' must be a string.", "model");
        if (!engine.modelNames().contains(m.asText())) throw ApiError.unknownModel(m.asText(), engine.modelNames());
        return m.asText();
    }
}
