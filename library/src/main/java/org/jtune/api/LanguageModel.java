package org.jtune.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.models.CausalLM;
import org.jtune.models.HiddenStates;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.models.generate.StopIds;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tools.ToolCall;
import org.jtune.models.tools.ToolReply;
import org.jtune.models.tools.ToolSyntax;
import org.jtune.models.tools.ToolUse;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.VectorApi;
import org.jtune.train.data.Conversation;
import org.jtune.train.recipe.RecipeConfig;
import org.jtune.train.run.FineTune;

/**
 * A language model for JVM applications: a Hugging Face model folder loaded (memory-mapped) with its
 * tokenizer and chat template, that completes text, chats, fine-tunes itself (LoRA or full, every recipe
 * key through {@link RecipeConfig.Builder}), evaluates, and saves its adapter in PEFT's format.
 *
 * <pre>{@code
 * try (LanguageModel model = LanguageModel.load(Path.of("models/my-model"))) {
 *     System.out.println(model.chat("Where is my card?"));
 * }
 * }</pre>
 *
 * <p>The JVM needs {@code --add-modules jdk.incubator.vector} (the kernels use the Vector API); without it
 * {@link #load} says so. Generation is greedy and stops at the model's end-of-sequence tokens. The chat
 * template is the adapter's (the one it was trained with), else the model's own, else chatml; the system
 * message is the one training recorded, if any. Not thread-safe: one call at a time. {@link #close()}
 * releases the memory mapping and throws no checked exception.
 */
public final class LanguageModel implements AutoCloseable {
    /** The template used when a model folder has none (stories260K and other base models): ChatML. */
    public static final String FALLBACK_TEMPLATE = "chatml";

    private final Path dir;
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private ChatTemplate template;
    private String systemMessage;
    private FineTune.Result lastRun;
    private int maxNewTokens = 256;
    private final Map<String, LogitsProcessor> constraints = new HashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    private LanguageModel(Path dir, CausalLM model, Tokenizer tokenizer, ChatTemplate template, String systemMessage) {
        this.dir = dir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.systemMessage = systemMessage;
    }

    /**
     * Loads a model folder (config.json, safetensors, tokenizer.json, optional tokenizer_config.json).
     *
     * @param dir the model folder
     * @return the model, to be closed by the caller
     * @throws JtuneException when the folder cannot be read, or the Vector API module is missing
     */
    public static LanguageModel load(Path dir) throws JtuneException {
        return load(dir, null);
    }

    /**
     * Loads a model folder with a PEFT LoRA adapter on it (for example one this class saved); the adapter's
     * chat template and system message, when it carries them, are used.
     *
     * @param dir     the model folder
     * @param adapter a PEFT adapter folder, or null
     * @return the model, to be closed by the caller
     * @throws JtuneException when a folder cannot be read, the adapter does not fit, or the Vector API module is missing
     */
    public static LanguageModel load(Path dir, Path adapter) throws JtuneException {
        VectorApi.require();
        Objects.requireNonNull(dir, "dir");
        CausalLM model = Architectures.load(dir);
        try {
            if (adapter != null) PeftFormat.load(adapter, model);
            ChatTemplate own = ChatTemplate.resolveIfAny(dir, adapter, null, "a chat template");
            ChatTemplate template = own != null ? own : ChatTemplate.forModel(dir, FALLBACK_TEMPLATE);
            return new LanguageModel(dir, model, Tokenizer.load(dir), template, PromptFormat.systemMessage(dir, adapter, null));
        } catch (JtuneException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Sets the most tokens a completion or answer may have (256 by default).
     *
     * @param n at least 1
     * @return this model
     */
    public LanguageModel maxNewTokens(int n) {
        if (n < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + n);
        maxNewTokens = n;
        return this;
    }

    /**
     * Uses another chat template from now on.
     *
     * @param spec a built-in name (chatml, llama2, llama3, mistral), Jinja source, or a file holding Jinja
     * @return this model
     * @throws JtuneException when the template cannot be found or read
     */
    public LanguageModel chatTemplate(String spec) throws JtuneException {
        template = ChatTemplate.resolve(dir, spec, "chatTemplate(...)");
        return this;
    }

    /**
     * Sets the system message put before every chat (null: none, unless the conversation has one).
     *
     * @param message the system message, or null
     * @return this model
     */
    public LanguageModel systemMessage(String message) {
        systemMessage = message;
        return this;
    }

    /**
     * Continues a text (the tokenizer's BOS is added), greedily, until an end-of-sequence token or the token limit.
     *
     * @param prompt       the text to continue
     * @param maxNewTokens the most tokens to generate
     * @return the generated text (without the prompt)
     * @throws JtuneException when the prompt does not fit the model's context
     */
    public String complete(String prompt, int maxNewTokens) throws JtuneException {
        return generate(tokenizer.encode(prompt, true), maxNewTokens, null).text();
    }

    /**
     * How likely the model finds {@code continuation} after {@code context} (the tokenizer's BOS first), with
     * lm-evaluation-harness's split: spaces that end the context move to the continuation, the text is tokenized whole
     * and the continuation is the tokens past the context's own tokenization. One forward pass, no gradients.
     *
     * @param context      the text before (may be empty)
     * @param continuation the text whose likelihood is scored (not empty)
     * @return the summed log-probability, the token count and whether greedy decoding would have written it
     * @throws JtuneException when the text does not fit the model's context
     */
    public Likelihood logLikelihood(String context, String continuation) throws JtuneException {
        if (continuation.isEmpty()) throw new JtuneException("the continuation to score is empty");
        int spaces = context.length() - context.stripTrailing().length();
        String ctx = context.substring(0, context.length() - spaces), cont = context.substring(context.length() - spaces) + continuation;
        int[] whole = tokenizer.encode(ctx + cont, true), head = tokenizer.encode(ctx, true);
        int from = Math.max(1, Math.min(head.length, whole.length - 1)); // the first token has nothing before it to score it
        if (whole.length > model.config().maxPositionEmbeddings()) {
            throw new JtuneException("context and continuation take " + whole.length + " tokens, beyond the model's context of "
                    + model.config().maxPositionEmbeddings());
        }
        float[] logits = HiddenStates.logits(model, whole);
        int vocab = logits.length / whole.length;
        double sum = 0;
        boolean greedy = true;
        for (int p = from; p < whole.length; p++) {
            int row = (p - 1) * vocab;
            double max = Double.NEGATIVE_INFINITY, exp = 0;
            int arg = 0;
            for (int v = 0; v < vocab; v++) {
                if (logits[row + v] > max) {
                    max = logits[row + v];
                    arg = v;
                }
            }
            for (int v = 0; v < vocab; v++) exp += Math.exp(logits[row + v] - max);
            sum += logits[row + whole[p]] - max - Math.log(exp);
            greedy &= arg == whole[p];
        }
        return new Likelihood(sum, whole.length - from, greedy);
    }

    /**
     * Answers one user message through the chat template (with the system message, if any).
     *
     * @param userMessage what the user says
     * @return the assistant's answer, stripped
     * @throws JtuneException when the template fails or the prompt does not fit the model's context
     */
    public String chat(String userMessage) throws JtuneException {
        return chat(List.of(Message.user(userMessage)));
    }

    /**
     * Answers a conversation (system, user and assistant turns, ending with a user turn) through the chat
     * template; the model's system message replaces the conversation's when one is set.
     *
     * @param conversation the turns so far
     * @return the assistant's next answer, stripped
     * @throws JtuneException when the template fails or the prompt does not fit the model's context
     */
    public String chat(List<Message> conversation) throws JtuneException {
        return generate(promptIds(conversation), maxNewTokens, null).text().strip();
    }

    /** The conversation rendered with the chat template (and the system message) for an answer, as ids. */
    private int[] promptIds(List<Message> conversation) throws JtuneException {
        return tokenizer.encode(template.render(withSystem(conversation), true, null), false);
    }

    /**
     * The answer to one user message as JSON that follows a JSON Schema (structured output: generation can only
     * produce such JSON; see {@link JsonConstraint} for the schema keywords it enforces).
     *
     * @param userMessage the message, rendered with the chat template (and system message) as {@link #chat(String)} does
     * @param schema      the JSON Schema the answer follows
     * @return the answer, parsed
     * @throws JtuneException when the schema has a keyword that cannot be enforced (naming its path), or when the
     *                        answer reached {@link #maxNewTokens} before its JSON value was complete
     */
    public JsonNode chatJson(String userMessage, JsonNode schema) throws JtuneException {
        return chatJson(List.of(Message.user(userMessage)), schema);
    }

    /**
     * {@link #chatJson(String, JsonNode)} for a whole conversation.
     *
     * @param conversation the messages so far, the last one the user's
     * @param schema       the JSON Schema the answer follows
     * @return the answer, parsed
     * @throws JtuneException as {@link #chatJson(String, JsonNode)}
     */
    public JsonNode chatJson(List<Message> conversation, JsonNode schema) throws JtuneException {
        LogitsProcessor constraint = kept(schema.toString(), () -> JsonConstraint.schema(schema, tokenizer, StopIds.of(model.config(), tokenizer)));
        Generator.Result r = generate(promptIds(conversation), maxNewTokens, constraint);
        if (r.finish() != Sequence.Finish.STOP_ID) {
            throw new JtuneException("the answer reached " + maxNewTokens + " tokens before its JSON value was complete; raise maxNewTokens: "
                    + r.text());
        }
        try {
            return JSON.readTree(r.text());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("constrained output that is not JSON: " + r.text(), e);
        }
    }

    /**
     * The next turn of a conversation with tools: the model answers in text or calls tools, as the chat template's tool
     * syntax has it ({@link ToolSyntax}: Mistral's and the Hermes tags and Llama 3.1's JSON calls natively, any other template with the tools in
     * the system message and a JSON answer). Calls are generated under the tools' schemas; pass them back as an
     * assistant message with {@code tool_calls} ({@link ToolCall#toOpenAi}) followed by "tool" messages with each
     * {@code tool_call_id} and result, then call this again.
     *
     * @param conversation the messages so far
     * @param tools        the tools, tool_choice and parallel_tool_calls
     * @return the text (null with only calls) and the calls (empty: it answered in text)
     * @throws JtuneException when a strict tool's schema cannot be enforced, or the calls reached {@link #maxNewTokens}
     *                        before they were complete
     */
    public ToolReply chatTools(List<Message> conversation, ToolUse tools) throws JtuneException {
        ToolSyntax syntax = ToolSyntax.of(template, tokenizer);
        ToolSyntax.Rendering r = syntax.render(withSystem(conversation), tools);
        int[] prompt = tokenizer.encode(template.render(r.messages(), true, r.variables()), false);
        LogitsProcessor constraint = kept("tools " + syntax.name() + " " + tools, () -> syntax.constraint(tools, tokenizer, StopIds.of(model.config(), tokenizer)));
        Generator.Result g = generate(prompt, maxNewTokens, constraint);
        if (!tools.offered()) return ToolReply.text(g.text().strip());
        ToolReply reply = syntax.parse(g.outputIds(), tokenizer, tools);
        if (g.finish() != Sequence.Finish.STOP_ID && reply.calls().isEmpty() && (syntax.holdsAll() || opened(syntax, g.outputIds()))) {
            throw new JtuneException("the answer reached " + maxNewTokens + " tokens before its tool calls were complete; raise maxNewTokens: " + g.text());
        }
        return reply;
    }

    /**
     * The constraint kept under a key (a schema, or tools in a syntax), else a new one, kept: its token masks are cached for
     * the next answers. An {@link IllegalArgumentException} (a keyword that cannot be enforced) becomes a JtuneException.
     */
    private LogitsProcessor kept(String key, java.util.function.Supplier<LogitsProcessor> make) throws JtuneException {
        if (constraints.containsKey(key)) return constraints.get(key);
        try {
            LogitsProcessor made = make.get();
            constraints.put(key, made);
            return made;
        } catch (IllegalArgumentException e) {
            throw new JtuneException(e.getMessage(), e);
        }
    }

    private boolean opened(ToolSyntax syntax, int[] ids) {
        for (int count = 1; count <= ids.length; count++) if (syntax.opensCalls(ids, count, tokenizer)) return true;
        return false;
    }

    private Generator.Result generate(int[] prompt, int maxNew, LogitsProcessor constraint) throws JtuneException {
        int context = model.config().maxPositionEmbeddings();
        if (prompt.length + maxNew > context) {
            throw new JtuneException("prompt of " + prompt.length + " tokens plus " + maxNew + " new tokens exceeds the model's context of "
                    + context + "; shorten it or ask for fewer tokens");
        }
        SamplingConfig greedy = SamplingConfig.greedyUntilEos(model.config(), tokenizer, maxNew);
        if (constraint != null) greedy = greedy.withProcessor(constraint);
        return Generator.generate(model, List.of(prompt), greedy, ids -> tokenizer.decode(ids, true), null).getFirst();
    }

    private List<Message> withSystem(List<Message> conversation) {
        if (systemMessage == null) return conversation;
        List<Message> m = new ArrayList<>();
        if (!systemMessage.isEmpty()) m.add(Message.system(systemMessage));
        for (Message x : conversation) if (!x.role().equals("system")) m.add(x);
        return m;
    }

    /**
     * Fine-tunes this model on the recipe's dataset files ({@code recipe.datasets(...)}); see
     * {@link #fineTune(RecipeConfig.Builder, List)}.
     *
     * @param recipe every recipe key, typed; base_model is this model's folder
     * @return the run: its folder, adapter (or model) folder, steps, losses
     * @throws JtuneException on bad data or settings (naming the file, line or key)
     */
    public FineTune.Result fineTune(RecipeConfig.Builder recipe) throws JtuneException {
        return train(recipe, null);
    }

    /**
     * Fine-tunes this model on conversations given in memory (each ending with the assistant answer to
     * learn). With LoRA (the default) the trained adapter stays attached and active, replacing an earlier
     * one; with full fine-tuning the weights are changed in place. The run folder ({@code outputDir}) gets
     * the checkpoints, metrics, report and the adapter with the chat template and system message it was
     * trained with, which this model uses from then on.
     *
     * @param recipe   every recipe key, typed; base_model is this model's folder
     * @param examples the training conversations (validation: val_set_size or validation_path of the recipe)
     * @return the run: its folder, adapter (or model) folder, steps, losses
     * @throws JtuneException on bad data or settings (naming the example or key)
     */
    public FineTune.Result fineTune(RecipeConfig.Builder recipe, List<Conversation> examples) throws JtuneException {
        return train(recipe, new FineTune.Examples(examples, List.of()));
    }

    private FineTune.Result train(RecipeConfig.Builder builder, FineTune.Examples examples) throws JtuneException {
        RecipeConfig recipe;
        try {
            recipe = builder.baseModel(dir).build();
        } catch (IllegalArgumentException e) {
            throw new JtuneException("recipe: " + e.getMessage(), e);
        }
        if (examples == null && recipe.datasets().isEmpty()) throw new JtuneException("recipe: give datasets(...), or pass the examples");
        if ("tokenizer_default".equals(recipe.chatTemplate()) && !PromptFormat.hasTemplate(dir)) {
            recipe = recipe.toBuilder().chatTemplate(FALLBACK_TEMPLATE).build(); // the template this model chats with
        }
        model.adapters().clear();
        FineTune.Result r = FineTune.train(model, recipe, examples, recipe.outputDir(), false, Adapters.DEFAULT, new FineTune.Listener() {});
        template = ChatTemplate.resolve(dir, recipe.chatTemplate(), "the recipe's chat_template");
        systemMessage = recipe.dropSystemMessage() ? "" : recipe.systemMessage();
        lastRun = r;
        return r;
    }

    /**
     * Evaluates the model on test conversations: each one's last assistant message is the reference, the
     * turns before it the prompt; answers are generated greedily (at most 64 tokens) and scored.
     *
     * @param testSet the test conversations
     * @param task    classification (accuracy, per-class F1), generation (exact match, ROUGE, BLEU, chrF) or extraction
     * @return the metrics and per-example verdicts
     * @throws JtuneException when an example has no assistant answer
     */
    public EvalResult evaluate(List<Conversation> testSet, Task task) throws JtuneException {
        List<ChatTestSet.Example> examples = new ArrayList<>();
        for (int i = 0; i < testSet.size(); i++) {
            Conversation c = testSet.get(i);
            int last = c.lastAssistantIndex();
            if (last < 0) throw new JtuneException("test example " + (i + 1) + ": no assistant answer to compare with");
            examples.add(new ChatTestSet.Example(Integer.toString(i + 1), c.messages().subList(0, last), c.messages().get(last).content(),
                    "test example " + (i + 1)));
        }
        ModelEvaluation run = new ModelEvaluation(model, tokenizer, template, systemMessage,
                ModelEvaluation.greedy(model, tokenizer, 64), 32);
        List<Prediction> predictions = run.run(examples);
        return EvalSettings.DEFAULTS.evaluatorFor(task).evaluate(predictions);
    }

    /**
     * Saves the active LoRA adapter in Hugging Face PEFT's format (adapter_config.json,
     * adapter_model.safetensors), with the tokenizer files and the chat template and system message in
     * tokenizer_config.json; {@link #load(Path, Path)}, {@code jtune eval --adapter} and PEFT read it.
     *
     * @param out the folder to write (created)
     * @throws JtuneException when no adapter is active or a file cannot be written
     */
    public void saveAdapter(Path out) throws JtuneException {
        List<String> active = model.adapters().active();
        if (active.isEmpty()) throw new JtuneException("no adapter to save: fine-tune with LoRA first, or load one");
        PeftFormat.save(out, model, active.getFirst(), dir.toString(), staged -> PromptFormat.write(staged, dir, template, systemMessage));
    }

    /**
     * The last fine-tuning run of this model, or null.
     *
     * @return the run's result
     */
    public FineTune.Result lastRun() {
        return lastRun;
    }

    /**
     * The model itself, for what this class does not cover (scoring, a server, export).
     *
     * @return the underlying model; it is closed with this object
     */
    public CausalLM model() {
        return model;
    }

    /**
     * The tokenizer of the model folder.
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Releases the model's memory mapping; the model must not be used afterwards. */
    @Override
    public void close() {
        model.close();
    }
}
