package org.jtune.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.report.ReportWriter;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.eval.run.PredictionsJsonl;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.models.llama.LlamaModel;
import org.jtune.models.llama.ModelExport;
import org.jtune.models.lora.LoraMerge;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.Rng;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckOptions;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.recipe.RecipeReader;
import org.jtune.train.run.FineTune;

/**
 * The whole pipeline of a fine-tuning project on data and a model it makes itself, step by step:
 * data, a small base model, data check, baseline evaluation, LoRA fine-tuning, evaluation against the
 * baseline, merge, generation, and the commands that repeat each step. Everything is written under
 * one folder the user can inspect afterwards.
 *
 * @param examples training tickets (validation and test are a fraction of it); smaller runs are for tests
 */
public record Demo(Path dir, int examples, int pretrainEpochs, int loraEpochs, PrintStream out, FineTune.Listener progress) {

    /** What the demo measured. */
    public record Outcome(double baselineAccuracy, double tunedAccuracy, double mcnemarP, boolean mergedAgrees, double seconds) {}

    public Outcome run() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(dir);
        // 1. data
        step(1, "generating an IT-helpdesk ticket-routing dataset (" + HelpdeskTickets.labels().size() + " queues)");
        Rng rng = new Rng(2026);
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Path train = writeChat(data.resolve("train.jsonl"), HelpdeskTickets.generate(examples, rng));
        Path validation = writeChat(data.resolve("validation.jsonl"), HelpdeskTickets.generate(Math.max(20, examples / 8), rng));
        Path test = writeChat(data.resolve("test.jsonl"), HelpdeskTickets.generate(Math.max(30, examples / 5), rng));
        List<String> corpus = new ArrayList<>();
        for (var t : HelpdeskTickets.generate(examples * 2, new Rng(7))) corpus.add(t.text());
        Path pretrainText = writeText(data.resolve("pretrain.jsonl"), corpus);
        out.printf("  %s (%d), %s, %s; %d unlabelled tickets for the base model%n", train, examples, validation.getFileName(),
                test.getFileName(), corpus.size());

        // 2-3. base model
        step(2, "creating a small Llama base model with its own byte-level BPE tokenizer and chat template");
        Path random = dir.resolve("base-untrained");
        Files.createDirectories(random);
        var config = TinyModel.write(random, corpus, 300, 11);
        out.printf("  %s: %d layers, dim %d, %d heads (%d KV), vocabulary %d%n", random, config.numHiddenLayers(), config.hiddenSize(),
                config.numAttentionHeads(), config.numKeyValueHeads(), config.vocabSize());
        step(3, "pre-training it briefly on unlabelled tickets (stands in for a pretrained model such as TinyLlama)");
        Path pretrainRecipe = writeRecipe("pretrain.yaml", """
                base_model: base-untrained
                datasets:
                  - path: data/pretrain.jsonl
                    type: text
                sequence_len: 128
                adapter: full
                learning_rate: 0.003
                warmup_steps: 10
                num_epochs: %d
                micro_batch_size: 16
                gradient_accumulation_steps: 1
                logging_steps: 10
                seed: 1
                output_dir: runs/pretrain
                """.formatted(pretrainEpochs));
        FineTune.Result pre = FineTune.run(RecipeReader.read(pretrainRecipe), dir.resolve("runs/pretrain"), false, progress);
        Path base = pre.output();
        out.printf("  base model: %s (loss %.3f after %d steps, %.0f s)%n", base, pre.lastLoss(), pre.steps(), pre.seconds());

        // 4. data check
        step(4, "checking the training data");
        DataCheckReport report = DataCheck.run(DataCheckOptions.builder(train).validation(validation).sequenceLength(128).build());
        out.print(DataCheckText.render(report, 5).lines().limit(12).map(l -> "  " + l + "\n").reduce("", String::concat));
        if (report.exitCode() != 0) throw new JtuneException("the generated data has errors");

        // 5. baseline
        step(5, "evaluating the base model on the test set (the baseline)");
        List<ChatTestSet.Example> testSet = ChatTestSet.read(test);
        List<Prediction> before = predict(base, null, testSet);
        Evaluator evaluator = new EvalSettings(HelpdeskTickets.labels(), false, List.of()).evaluatorFor(Task.CLASSIFICATION);
        EvalResult baseline = evaluator.evaluate(before);
        Path evalBase = dir.resolve("eval/baseline");
        PredictionsJsonl.write(mkdirs(evalBase).resolve(PredictionsJsonl.FILE), before, baseline);
        out.printf(Locale.ROOT, "  baseline accuracy %.3f, macro F1 %.3f (e.g. \"%s\" → \"%s\")%n", baseline.metric("accuracy"),
                baseline.metric("macro_f1"), testSet.getFirst().prompt().getLast().content(), before.getFirst().prediction());

        // 6. LoRA
        step(6, "fine-tuning with LoRA (r=16 on all projections, the EOS row trained too)");
        Path loraRecipe = writeRecipe("lora.yaml", """
                base_model: runs/pretrain/model
                datasets:
                  - path: data/train.jsonl
                    type: chat
                validation_path: data/validation.jsonl
                sequence_len: 128
                adapter: lora
                lora_r: 16
                lora_alpha: 32
                lora_dropout: 0.0
                lora_target_modules: all-linear
                trainable_token_indices: [eos]
                learning_rate: 0.004
                warmup_steps: 10
                num_epochs: %d
                micro_batch_size: 16
                gradient_accumulation_steps: 1
                eval_steps: 80
                eval_accuracy: true
                logging_steps: 10
                seed: 42
                output_dir: runs/lora
                """.formatted(loraEpochs));
        FineTune.Result lora = FineTune.run(RecipeReader.read(loraRecipe), dir.resolve("runs/lora"), false, progress);
        out.printf(Locale.ROOT, "  adapter: %s (%d steps, %.0f s; validation accuracy %s)%n", lora.output(), lora.steps(), lora.seconds(),
                lora.valAccuracy() == null ? "-" : String.format(Locale.ROOT, "%.3f", lora.valAccuracy()));

        // 7. evaluation against the baseline
        step(7, "evaluating the fine-tuned model on the same test set, against the baseline");
        List<Prediction> after = predict(base, lora.output(), testSet);
        Comparison cmp = Comparison.run(evaluator, before, after, 1000, 5);
        Path evalTuned = dir.resolve("eval/lora");
        PredictionsJsonl.write(mkdirs(evalTuned).resolve(PredictionsJsonl.FILE), after, cmp.candidate());
        ReportWriter.write(evalTuned, "demo: LoRA vs base on the helpdesk test set", cmp.candidate(), cmp, null);
        for (String m : List.of("accuracy", "macro_f1")) {
            var d = cmp.delta(m);
            out.printf(Locale.ROOT, "  %-9s %.3f → %.3f  (delta %+.3f, 95%% CI [%+.3f, %+.3f])%n", m, d.baseline(), d.candidate(), d.delta(),
                    d.ciLow(), d.ciHigh());
        }
        out.printf(Locale.ROOT, "  McNemar exact test p = %.3g; report %s%n", cmp.mcnemar().pValue(), evalTuned.resolve(ReportWriter.REPORT));

        // 8. merge
        step(8, "merging the adapter into the base model");
        Path merged = dir.resolve("merged");
        try (LlamaModel m = LlamaModel.load(base)) {
            PeftFormat.load(lora.output(), m);
            LoraMerge.mergeInto(m);
            ModelExport.save(m, base, merged, 2_000_000_000L);
        }
        List<ChatTestSet.Example> sample = testSet.subList(0, Math.min(8, testSet.size()));
        List<Prediction> fromMerged = predict(merged, null, sample);
        boolean agrees = true;
        for (int i = 0; i < sample.size(); i++) agrees &= fromMerged.get(i).prediction().equals(after.get(i).prediction());
        out.printf("  %s; the merged model gives the same answers as base + adapter on %d test tickets: %s%n", merged, sample.size(),
                agrees ? "yes" : "NO");

        // 9. generations
        step(9, "a few tickets routed by the merged model");
        for (int i = 0; i < Math.min(5, sample.size()); i++) {
            out.printf("  %-70s → %s%n", '"' + sample.get(i).prompt().getLast().content() + '"', fromMerged.get(i).prediction());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "%ndone in %.0f s. Everything is in %s. Repeat any step with the CLI:%n", seconds, dir);
        out.printf("""
                  jtune data check --data %1$s/data/train.jsonl --validation %1$s/data/validation.jsonl --model %1$s/runs/pretrain/model
                  jtune train %1$s/lora.yaml --output-dir %1$s/runs/lora-again
                  jtune eval --model %1$s/runs/pretrain/model --adapter %1$s/runs/lora/adapter --data %1$s/data/test.jsonl --task classification --baseline %1$s/eval/baseline --out %1$s/eval/again
                  jtune merge --model %1$s/runs/pretrain/model --adapter %1$s/runs/lora/adapter --out %1$s/merged-again
                  jtune generate --model %1$s/merged --chat --prompt "My mailbox is full." --system "%2$s"
                """, dir, HelpdeskTickets.SYSTEM);
        return new Outcome(baseline.metric("accuracy"), cmp.candidate().metric("accuracy"), cmp.mcnemar().pValue(), agrees, seconds);
    }

    private List<Prediction> predict(Path model, Path adapter, List<ChatTestSet.Example> examples) throws Exception {
        try (LlamaModel m = LlamaModel.load(model)) {
            if (adapter != null) PeftFormat.load(adapter, m);
            Tokenizer tok = Tokenizer.load(model);
            return new ModelEvaluation(m, tok, ChatTemplate.load(model), null, ModelEvaluation.greedy(m, tok, 16), 32).run(examples);
        }
    }

    private void step(int n, String what) {
        out.printf("%n[%d/9] %s%n", n, what);
    }

    private Path writeRecipe(String name, String yaml) throws JtuneException {
        Path p = dir.resolve(name);
        SafetensorsWriter.writeText(p, yaml);
        return p;
    }

    private static Path mkdirs(Path p) throws java.io.IOException {
        Files.createDirectories(p);
        return p;
    }

    private static Path writeChat(Path file, List<HelpdeskTickets.Ticket> tickets) throws JtuneException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (var t : tickets) {
            ObjectNode o = json.createObjectNode();
            var msgs = o.putArray("messages");
            msgs.addObject().put("role", "system").put("content", HelpdeskTickets.SYSTEM);
            msgs.addObject().put("role", "user").put("content", t.text());
            msgs.addObject().put("role", "assistant").put("content", t.label());
            sb.append(o).append('\n');
        }
        SafetensorsWriter.writeText(file, sb.toString());
        return file;
    }

    private static Path writeText(Path file, List<String> texts) throws JtuneException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (String t : texts) sb.append(json.createObjectNode().put("text", t)).append('\n');
        SafetensorsWriter.writeText(file, sb.toString());
        return file;
    }
}
