package org.jtune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `jtune tokenize`: the token ids of a text, or of each line of a JSONL file — {"text": ...} lines are
 * encoded as they are, {"messages": [...], "add_generation_prompt": bool} lines are first rendered with the
 * model's chat template (the rendered prompt is encoded without adding special tokens, as
 * apply_chat_template does). Reads only the tokenizer files of the model folder. With --json, one
 * {"ids": [...], "text": ...} per input on stdout; otherwise the ids on stdout and the tokens on stderr.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text or of each line of a JSONL file (text or chat messages).")
final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (tokenizer.json or tiktoken tokenizer.model).")
    Path model;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to encode.")
        String text;

        @Option(names = "--input", paramLabel = "FILE.jsonl", description = "Lines of {\"text\": ...} or {\"messages\": [...], \"add_generation_prompt\": bool}.")
        Path input;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--no-special", description = "Do not add the tokenizer's special tokens (BOS ...) around a text.")
    boolean noSpecial;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Template for messages: a built-in one (chatml, llama2, llama3, mistral) or a Jinja file. "
                    + "Default: the model's own, else chatml.")
    String chatTemplate;

    @Option(names = "--json", description = "Print one JSON object per input on stdout.")
    boolean json;

    private ChatTemplate template;

    @Override
    public Integer call() {
        try {
            Tokenizer tokenizer = Tokenizer.load(model);
            if (input.text != null) {
                print(tokenizer, tokenizer.encode(input.text, !noSpecial), input.text);
                return 0;
            }
            return encodeLines(tokenizer);
        } catch (JtuneException e) {
            System.err.println("jtune tokenize: " + e.getMessage());
            return 1;
        }
    }

    private int encodeLines(Tokenizer tokenizer) throws JtuneException {
        try (BufferedReader in = Files.newBufferedReader(input.input, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String where = input.input + ":" + lineNo;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException e) {
                    throw new JtuneException(where + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
                }
                if (node == null || !node.isObject()) throw new JtuneException(where + ": expected a JSON object with \"text\" or \"messages\"");
                if (node.has("text")) {
                    if (!node.get("text").isTextual()) throw new JtuneException(where + ": \"text\" must be a string");
                    String text = node.get("text").asText();
                    print(tokenizer, tokenizer.encode(text, !noSpecial), text);
                } else if (node.has("messages")) {
                    String prompt = render(node, where);
                    print(tokenizer, tokenizer.encode(prompt, false), prompt);
                } else {
                    throw new JtuneException(where + ": expected \"text\" or \"messages\"");
                }
            }
            return 0;
        } catch (IOException e) {
            throw new JtuneException(input.input + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private String render(JsonNode node, String where) throws JtuneException {
        JsonNode messages = node.get("messages");
        if (!messages.isArray() || messages.isEmpty()) throw new JtuneException(where + ": \"messages\" must be a non-empty list");
        List<Message> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            try {
                list.add(Message.fromJson(messages.get(i)));
            } catch (JtuneException e) {
                throw new JtuneException(where + ": messages[" + i + "]: " + e.getMessage());
            }
        }
        JsonNode generation = node.get("add_generation_prompt");
        if (generation != null && !generation.isBoolean()) throw new JtuneException(where + ": \"add_generation_prompt\" must be true or false");
        Map<String, Object> extra = new LinkedHashMap<>();
        for (String key : List.of("tools", "documents")) {
            if (node.hasNonNull(key)) extra.put(key, JSON.convertValue(node.get(key), Object.class));
        }
        try {
            return template().render(list, generation != null && generation.asBoolean(), extra);
        } catch (JtuneException e) {
            throw new JtuneException(where + ": " + e.getMessage());
        }
    }

    private ChatTemplate template() throws JtuneException {
        if (template == null) template = ChatTemplate.resolve(model, chatTemplate, "--chat-template");
        return template;
    }

    private void print(Tokenizer tokenizer, int[] ids, String text) {
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ids", ids);
            out.put("text", text);
            try {
                System.out.println(JSON.writeValueAsString(out));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return;
        }
        StringBuilder idLine = new StringBuilder();
        StringBuilder tokens = new StringBuilder();
        for (int id : ids) {
            if (!idLine.isEmpty()) {
                idLine.append(' ');
                tokens.append(" | ");
            }
            idLine.append(id);
            tokens.append(tokenizer.tokenString(id));
        }
        System.out.println(idLine);
        System.err.println(ids.length + " tokens: " + tokens);
    }
}
