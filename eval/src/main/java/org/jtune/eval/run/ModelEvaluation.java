package org.jtune.eval.run;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * Runs a model over a test set: each prompt rendered with the chat template and the generation
 * prompt (the system message optionally replaced), generated in batches (greedy by default, until an
 * EOS id), and turned into {@link Prediction} records for an evaluator. A prompt that does not fit the
 * model's context with the answer's tokens becomes an invalid prediction with the reason (scored as a
 * wrong answer), and the run goes on.
 *
 * @param systemMessage replaces the examples' system message when not null ("" removes it)
 */
public record ModelEvaluation(CausalLM model, Tokenizer tokenizer, ChatTemplate template, String systemMessage,
                              SamplingConfig sampling, int batchSize) {

    /** Greedy decoding that stops at the config's and the tokenizer's EOS ids. */
    public static SamplingConfig greedy(CausalLM model, Tokenizer tokenizer, int maxNewTokens) {
        return SamplingConfig.greedyUntilEos(model.config(), tokenizer, maxNewTokens);
    }

    public List<Prediction> run(List<ChatTestSet.Example> examples) throws JtuneException {
        int context = model.config().maxPositionEmbeddings();
        List<Prediction> out = new ArrayList<>();
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<ChatTestSet.Example> part = examples.subList(from, Math.min(examples.size(), from + batchSize));
            List<int[]> prompts = new ArrayList<>();
            String[] invalid = new String[part.size()];
            for (int i = 0; i < part.size(); i++) {
                ChatTestSet.Example e = part.get(i);
                String text = template.render(messages(e.prompt()), true, null);
                int[] ids = tokenizer.encode(text, false);
                if (ids.length + sampling.maxNewTokens() > context) {
                    invalid[i] = "prompt of " + ids.length + " tokens plus " + sampling.maxNewTokens()
                            + " new tokens exceeds the model's context of " + context;
                } else {
                    prompts.add(ids);
                }
            }
            List<Generator.Result> results = Generator.generate(model, prompts, sampling, ids -> tokenizer.decode(ids, true), null);
            for (int i = 0, r = 0; i < part.size(); i++) {
                ChatTestSet.Example e = part.get(i);
                String input = e.prompt().getLast().content();
                if (invalid[i] != null) {
                    out.add(Prediction.invalid(e.id(), input, e.reference(), e.where(), invalid[i]));
                    continue;
                }
                Generator.Result g = results.get(r++);
                String answer = g.text() == null ? "" : g.text().strip();
                out.add(new Prediction(e.id(), input, e.reference(), answer, List.of(), List.of(), e.where()));
            }
        }
        return out;
    }

    private List<Message> messages(List<Message> prompt) {
        if (systemMessage == null) return prompt;
        List<Message> m = new ArrayList<>();
        if (!systemMessage.isEmpty()) m.add(Message.system(systemMessage));
        for (Message x : prompt) if (!x.role().equals("system")) m.add(x);
        return m;
    }
}
