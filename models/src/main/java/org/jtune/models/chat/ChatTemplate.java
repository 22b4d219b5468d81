package org.jtune.models.chat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.tokenizer.TokenizerConfig;

/**
 * A chat template: the Jinja program that turns a conversation into the prompt text a model was trained on
 * (tokenizer_config.json "chat_template" of a Hugging Face model, or a built-in one). Rendering matches
 * transformers' apply_chat_template(tokenize=False): the context holds messages, add_generation_prompt, the
 * special-token strings (bos_token, eos_token, ...) and any extra variables (tools, documents, ...).
 * A template that cannot be rendered, or that calls raise_exception, is a JtuneException. Immutable.
 */
public final class ChatTemplate {
    private final String source;
    private final String origin;
    private final Map<String, String> specialTokens;

    private ChatTemplate(String source, String origin, Map<String, String> specialTokens) {
        this.source = source;
        this.origin = origin;
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /** The model folder's own template; a JtuneException naming the folder when it has none. */
    public static ChatTemplate load(Path modelDir) throws JtuneException {
        return resolve(modelDir, null, "--chat-template");
    }

    /** The model folder's template, else the named built-in one with the folder's special tokens. */
    public static ChatTemplate forModel(Path modelDir, String fallbackName) throws JtuneException {
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        if (config.chatTemplate() != null) {
            return new ChatTemplate(config.chatTemplate(), config.chatTemplateFile().toString(), config.specialTokens());
        }
        return named(fallbackName).withSpecialTokens(config.specialTokens());
    }

    /**
     * The template a command or recipe asks for: null (or "tokenizer_default") means the model folder's
     * own; Jinja source given inline; a file holding Jinja; or a built-in name. Inline, file and built-in
     * templates get the folder's special-token strings. An error names what was asked for and the
     * option that chooses another ({@code option}, e.g. "--chat-template" or "chat_template").
     */
    public static ChatTemplate resolve(Path modelDir, String spec, String option) throws JtuneException {
        if (spec == null || spec.equals("tokenizer_default")) {
            TokenizerConfig config = TokenizerConfig.read(modelDir);
            if (config.chatTemplate() == null) {
                Path shown = org.jtune.models.gguf.GgufModels.shown(modelDir);
                String where = shown.equals(modelDir) ? "in tokenizer_config.json, chat_template.json or chat_template.jinja"
                        : "no tokenizer.chat_template in its metadata";
                throw new JtuneException(shown + ": no chat_template (" + where + "); choose one with " + option + " (a built-in one: " + String.join(", ", BuiltinTemplates.NAMES)
                        + ", or a Jinja file)");
            }
            return new ChatTemplate(config.chatTemplate(), config.chatTemplateFile().toString(), config.specialTokens());
        }
        Map<String, String> special = TokenizerConfig.read(modelDir).specialTokens();
        if (spec.contains("{{") || spec.contains("{%")) return of(spec, "the " + option + " given inline", special);
        Path file = Path.of(spec);
        if (java.nio.file.Files.isRegularFile(file)) {
            try {
                return of(java.nio.file.Files.readString(file), file.toString(), special);
            } catch (java.io.IOException e) {
                throw new JtuneException("cannot read chat template " + file + ": " + org.jtune.io.IoErrors.reason(e), e);
            }
        }
        return named(spec).withSpecialTokens(special);
    }

    /**
     * {@link #resolve(Path, Path, String, String)} when {@code spec} names a template or either folder carries one;
     * null when none is named and neither has one (the caller decides: a 400, a fallback, a file without a template).
     */
    public static ChatTemplate resolveIfAny(Path modelDir, Path adapterDir, String spec, String option) throws JtuneException {
        if (spec == null && !PromptFormat.hasTemplate(adapterDir) && !PromptFormat.hasTemplate(modelDir)) return null;
        return resolve(modelDir, adapterDir, spec, option);
    }

    /**
     * The template of a run on a model with an adapter: as {@link #resolve(Path, String, String)}, except that
     * an adapter folder that carries its own template (written there by training, see {@link PromptFormat})
     * wins over the model's, and its special-token strings are used. {@code adapterDir} may be null.
     */
    public static ChatTemplate resolve(Path modelDir, Path adapterDir, String spec, String option) throws JtuneException {
        if (adapterDir == null || !java.nio.file.Files.isRegularFile(adapterDir.resolve("tokenizer_config.json"))) {
            return resolve(modelDir, spec, option);
        }
        if (spec != null && !spec.equals("tokenizer_default")) return resolve(adapterDir, spec, option);
        if (PromptFormat.hasTemplate(adapterDir)) return resolve(adapterDir, null, option);
        if (PromptFormat.hasTemplate(modelDir)) {
            return resolve(modelDir, null, option).withSpecialTokens(TokenizerConfig.read(adapterDir).specialTokens());
        }
        throw new JtuneException("neither the adapter " + adapterDir + " nor the model " + org.jtune.models.gguf.GgufModels.shown(modelDir) + " has a chat_template; choose one with "
                + option + " (a built-in one: " + String.join(", ", BuiltinTemplates.NAMES) + ", or a Jinja file)");
    }

    /** A built-in template: chatml, llama2, llama3 or mistral. */
    public static ChatTemplate named(String name) throws JtuneException {
        BuiltinTemplates.Builtin builtin = BuiltinTemplates.get(name);
        if (builtin == null) {
            throw new JtuneException("unknown chat template \"" + name + "\"; built-in ones are " + String.join(", ", BuiltinTemplates.NAMES));
        }
        return new ChatTemplate(builtin.source(), "built-in chat template " + name, builtin.specialTokens());
    }

    /** The names {@link #named} accepts. */
    public static List<String> builtinNames() {
        return BuiltinTemplates.NAMES;
    }

    /** A template from Jinja source; origin names it in error messages. */
    public static ChatTemplate of(String source, String origin, Map<String, String> specialTokens) {
        return new ChatTemplate(source, origin, specialTokens);
    }

    /** This template with these special-token strings added to (and overriding) its own. */
    public ChatTemplate withSpecialTokens(Map<String, String> tokens) {
        Map<String, String> merged = new HashMap<>(specialTokens);
        merged.putAll(tokens);
        return new ChatTemplate(source, origin, merged);
    }

    /**
     * The prompt text of a conversation.
     *
     * @param addGenerationPrompt end with the header that starts the assistant's reply
     * @param extra               further template variables (tools, documents, ...); may be null
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) throws JtuneException {
        Map<String, Object> context = new HashMap<>(specialTokens);
        List<Map<String, Object>> values = new ArrayList<>(messages.size());
        for (Message m : messages) values.add(m.toTemplateValue());
        context.put("messages", values);
        context.put("add_generation_prompt", addGenerationPrompt);
        if (extra != null) context.putAll(extra);
        return JinjaEnvironment.render(source, context, origin);
    }

    public String source() {
        return source;
    }

    /** Where the template came from (a file, or "built-in chat template NAME"). */
    public String origin() {
        return origin;
    }

    public Map<String, String> specialTokens() {
        return specialTokens;
    }
}
