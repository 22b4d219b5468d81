package org.jtune.models.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.models.tokenizer.JsonFiles;

/**
 * The prompt format a fine-tuned model answers in, kept beside its weights as Axolotl's outputs keep
 * it: an adapter folder (and a merged or fully fine-tuned model folder) carries the tokenizer files of
 * its base and a tokenizer_config.json whose {@code "chat_template"} is the Jinja text used in training
 * (a built-in name resolved to its source) and whose {@code "training_system_message"} is the system
 * message training put in place of the data's ({@code ""}: training dropped them; absent: it kept the
 * data's own). Servers that read tokenizer_config.json (transformers, vLLM, llama.cpp's converter) then
 * render prompts as in training, and jtune's eval, generate, chat and merge use both unless a flag
 * says otherwise; an adapter's format wins over its base model's.
 */
public final class PromptFormat {
    /** The tokenizer_config.json key of the system message used in training. */
    public static final String SYSTEM_MESSAGE_KEY = "training_system_message";
    /** Tokenizer files carried from the base (tokenizer_config.json is rewritten, not copied). */
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer.model", "special_tokens_map.json",
            "added_tokens.json", "vocab.json", "merges.txt");
    /** Files whose template would win over tokenizer_config.json's (see {@link org.jtune.models.tokenizer.TokenizerConfig}). */
    static final List<String> TEMPLATE_FILES = List.of("chat_template.jinja", "chat_template.json");
    private static final String CONFIG = "tokenizer_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptFormat() {}

    /**
     * Writes the tokenizer files of {@code tokenizerSource} into {@code dir} (a no-op for files already
     * there when both are the same folder) and a tokenizer_config.json holding {@code template}'s source
     * and {@code systemMessage} (null: the key is left out). Special-token strings the template was given
     * and the source's config lacks are added, so that the template renders the same when read back.
     */
    public static void write(Path dir, Path tokenizerSource, ChatTemplate template, String systemMessage) throws JtuneException {
        try {
            Files.createDirectories(dir);
            boolean same = Files.isSameFile(dir, tokenizerSource);
            if (!same) {
                for (String name : TOKENIZER_FILES) {
                    Path src = tokenizerSource.resolve(name);
                    if (Files.isRegularFile(src)) AtomicFile.copy(src, dir.resolve(name));
                }
            }
            JsonNode base = JsonFiles.readIfPresent(tokenizerSource.resolve(CONFIG));
            ObjectNode config = base != null && base.isObject() ? (ObjectNode) base.deepCopy() : JSON.createObjectNode();
            for (Map.Entry<String, String> e : template.specialTokens().entrySet()) {
                if (!config.hasNonNull(e.getKey())) config.put(e.getKey(), e.getValue());
            }
            config.put("chat_template", template.source());
            if (systemMessage != null) config.put(SYSTEM_MESSAGE_KEY, systemMessage);
            else config.remove(SYSTEM_MESSAGE_KEY);
            AtomicFile.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
            for (String name : TEMPLATE_FILES) Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            throw new JtuneException("cannot write the prompt format into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The system message recorded in {@code dir}'s tokenizer_config.json, or null when none is recorded (or dir is null). */
    public static String recordedSystemMessage(Path dir) throws JtuneException {
        if (dir == null) return null;
        JsonNode config = JsonFiles.readIfPresent(dir.resolve(CONFIG));
        if (config == null) return null;
        JsonNode v = config.get(SYSTEM_MESSAGE_KEY);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new JtuneException(dir.resolve(CONFIG) + ": \"" + SYSTEM_MESSAGE_KEY + "\" must be a string");
        return v.asText();
    }

    /**
     * The system message a run on a model (and adapter) uses: {@code flag} when given (not null), else the
     * adapter's recorded one, else the model's, else null (the data's own system messages are kept).
     */
    public static String systemMessage(Path modelDir, Path adapterDir, String flag) throws JtuneException {
        if (flag != null) return flag;
        String adapter = recordedSystemMessage(adapterDir);
        return adapter != null ? adapter : recordedSystemMessage(modelDir);
    }

    /** True when {@code dir} carries its own chat template (an adapter folder written by {@link #write}, a model folder). */
    public static boolean hasTemplate(Path dir) throws JtuneException {
        return dir != null && org.jtune.models.tokenizer.TokenizerConfig.read(dir).chatTemplate() != null;
    }
}
