package org.jtune.train.data.augment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.StopIds;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;

/**
 * Paraphrases from a model folder, through {@link Generator}: the prompt is rendered as a user
 * message with the folder's chat template when it has one, else encoded as plain text after BOS (a
 * base model continues it); prompts are generated in batches; sampling stops at the model's and the
 * tokenizer's end-of-sequence ids or after {@code maxNewTokens}.
 */
public final class LocalModelGenerator implements ParaphraseGenerator {
    private static final int BATCH = 8;

    private final Path dir;
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;   // null: plain text prompts
    private final SamplingConfig sampling;

    private LocalModelGenerator(Path dir, CausalLM model, Tokenizer tokenizer, ChatTemplate template, SamplingConfig sampling) {
        this.dir = dir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.sampling = sampling;
    }

    public static LocalModelGenerator load(Path dir, float temperature, float topP, int maxNewTokens) throws JtuneException {
        CausalLM model = Architectures.load(dir);
        try {
            Tokenizer tok = Tokenizer.load(dir);
            ChatTemplate template = TokenizerConfig.read(dir).chatTemplate() != null ? ChatTemplate.load(dir) : null;
            SamplingConfig sampling = new SamplingConfig(temperature, 0, topP, 0f, 1f, 0L, maxNewTokens,
                    StopIds.of(model.config(), tok), List.of());
            return new LocalModelGenerator(dir, model, tok, template, sampling);
        } catch (JtuneException | RuntimeException e) {
            closeQuietly(model);
            throw e;
        }
    }

    @Override
    public List<String> generate(List<String> prompts, long seed) throws JtuneException {
        List<String> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<int[]> ids = new ArrayList<>();
            for (String p : prompts.subList(from, Math.min(prompts.size(), from + BATCH))) {
                ids.add(template != null ? tokenizer.encode(template.render(List.of(Message.user(p)), true, null), false)
                        : tokenizer.encode(p, true));
            }
            for (Generator.Result r : Generator.generate(model, ids, sampling.withSeed(seed + from), o -> tokenizer.decode(o, true), null)) {
                out.add(tokenizer.decode(r.outputIds(), true));
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return "model " + dir + (template == null ? " (plain-text prompts: no chat template)" : " (chat template)");
    }

    @Override
    public void close() throws JtuneException {
        try {
            model.close();
        } catch (Exception e) {
            throw new JtuneException(dir + ": cannot close the model: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(CausalLM m) {
        try {
            m.close();
        } catch (Exception ignored) {
            // the load error is the one to report
        }
    }
}
