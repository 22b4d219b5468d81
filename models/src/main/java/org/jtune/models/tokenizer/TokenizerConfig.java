package org.jtune.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * The tokenizer settings of a Hugging Face model folder besides tokenizer.json: the special-token strings
 * (tokenizer_config.json, else special_tokens_map.json), the chat template (chat_template.jinja, else
 * chat_template.json, else tokenizer_config.json; the "default" one when several are named), and the
 * bos/eos ids of generation_config.json and config.json. Every file is optional.
 *
 * @param specialTokens      "bos_token" → "<s>", "eos_token" → "</s>", ... (only those set and not null)
 * @param chatTemplate       the template source, or null
 * @param chatTemplateFile   the file it came from, or null
 * @param configEosIds       eos ids of generation_config.json then config.json, in order, without repeats
 * @param configBosId        bos id of generation_config.json or config.json, or -1
 */
public record TokenizerConfig(Map<String, String> specialTokens, String chatTemplate, Path chatTemplateFile,
                              List<Integer> configEosIds, int configBosId) {

    static final List<String> SPECIAL_TOKEN_KEYS =
            List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token");

    public TokenizerConfig {
        specialTokens = Map.copyOf(specialTokens);
        configEosIds = List.copyOf(configEosIds);
    }

    public static TokenizerConfig read(Path modelDir) throws JtuneException {
        Path configFile = modelDir.resolve("tokenizer_config.json");
        JsonNode config = JsonFiles.readIfPresent(configFile);
        JsonNode specialMap = JsonFiles.readIfPresent(modelDir.resolve("special_tokens_map.json"));
        Map<String, String> special = new LinkedHashMap<>();
        for (String key : SPECIAL_TOKEN_KEYS) {
            String value = tokenText(config, key);
            if (value == null) value = tokenText(specialMap, key);
            if (value != null) special.put(key, value);
        }

        String template = null;
        Path templateFile = null;
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                template = Files.readString(jinja);
                templateFile = jinja;
            } catch (java.io.IOException e) {
                throw new JtuneException(jinja + ": cannot read (" + e.getMessage() + ")", e);
            }
        }
        if (template == null) {
            Path json = modelDir.resolve("chat_template.json");
            JsonNode node = JsonFiles.readIfPresent(json);
            if (node != null) {
                template = templateText(node.get("chat_template"), json);
                templateFile = json;
            }
        }
        if (template == null && config != null) {
            template = templateText(config.get("chat_template"), configFile);
            if (template != null) templateFile = configFile;
        }

        List<Integer> eos = new ArrayList<>();
        int bos = -1;
        for (String name : List.of("generation_config.json", "config.json")) {
            Path file = modelDir.resolve(name);
            JsonNode node = JsonFiles.readIfPresent(file);
            if (node == null) continue;
            JsonNode e = node.get("eos_token_id");
            if (e != null && e.isArray()) {
                for (JsonNode id : e) if (id.canConvertToInt() && !eos.contains(id.asInt())) eos.add(id.asInt());
            } else if (e != null && e.canConvertToInt() && !eos.contains(e.asInt())) {
                eos.add(e.asInt());
            }
            JsonNode b = node.get("bos_token_id");
            if (bos < 0 && b != null && b.canConvertToInt()) bos = b.asInt();
        }
        return new TokenizerConfig(special, template, templateFile, eos, bos);
    }

    /** A special token given as a string or as an AddedToken object {"content": ...}; null when absent. */
    private static String tokenText(JsonNode config, String key) {
        if (config == null) return null;
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        JsonNode content = v.get("content");
        return content != null && content.isTextual() ? content.asText() : null;
    }

    /** chat_template as a string, or as a list of {"name", "template"} (the "default" one, else the first). */
    private static String templateText(JsonNode node, Path file) throws JtuneException {
        if (node == null || node.isNull()) return null;
        if (node.isTextual()) return node.asText();
        if (node.isArray()) {
            String first = null;
            for (JsonNode named : node) {
                JsonNode t = named.get("template");
                if (t == null || !t.isTextual()) continue;
                if (first == null) first = t.asText();
                if ("default".equals(named.path("name").asText())) return t.asText();
            }
            if (first != null) return first;
        }
        throw new JtuneException(file + ": \"chat_template\" must be a string or a list of {\"name\", \"template\"}");
    }
}
