package org.jtune.cli.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.eval.EvalResult;
import org.jtune.eval.EvalSettings;
import org.jtune.eval.Evaluator;
import org.jtune.eval.Prediction;
import org.jtune.eval.Task;
import org.jtune.eval.compare.Comparison;
import org.jtune.eval.compare.MetricDelta;
import org.jtune.eval.report.ReportWriter;
import org.jtune.eval.run.ChatTestSet;
import org.jtune.eval.run.ModelEvaluation;
import org.jtune.eval.run.PredictionsJsonl;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.config.LlamaConfig;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.io.ModelExport;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraMerge;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.Rng;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckOptions;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.ModelTokenCounter;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.run.FineTune;

/**
 * The whole pipeline of a fine-tuning project on data and a model the demo makes itself, in ten
 * printed steps: dataset, tokenizer and random model, a short pre-training that stands in for a
 * pretrained base, data check, baseline evaluation, LoRA fine-tuning, evaluation against the
 * baseline (bootstrap intervals, McNemar), merge (checked against base + adapter), generations, and
 * a summary with the folder's layout and the commands that repeat each step. Nothing is downloaded
 * or read from outside {@code dir}; everything written stays there.
 *
 * @param progress hears the two training runs (the CLI draws a progress bar)
 */
public record Demo(Path dir, DemoSize size, DemoOutput out, FineTune.Listener progress) {
    static final int BPE_MERGES = 300;
    static final long MODEL_SEED = 11;
    static final int GENERATIONS = 5;
    static final int MERGE_CHECKS = 16;

    /** A demo whose human text goes to {@code text} and, when {@code json} is not null, one JSON object per step to it. */
    public static Demo of(Path dir, DemoSize size, java.io.PrintStream text, java.io.PrintStream json, boolean progressBar) {
        return new Demo(dir, size, new DemoOutput(text, json), progressBar ? new TrainingProgress(text, 10) : TrainingProgress.SILENT);
    }

    public DemoOutcome run() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(dir);

        out.step(1, "generating an IT-helpdesk ticket-routing dataset (" + HelpdeskTickets.labels().size() + " queues: "
                + String.join(", ", HelpdeskTickets.labels()) + ")");
        DemoDataset data = DemoDataset.write(dir, size);
        out.line("%s: %d train, %d validation, %d test tickets (no ticket in two splits), OpenAI chat JSONL",
                dir.relativize(data.train().getParent()), size.train(), size.validation(), size.test());
        out.line("%s: %d unlabelled texts for pre-training", dir.relativize(data.pretrain()), data.corpus().size());
        out.line("e.g. %s", DemoDataset.chatLine(HelpdeskTickets.generate(1, new Rng(DemoDataset.SEED)).getFirst()));
        out.emit(out.record(1, "data").put("train", size.train()).put("validation", size.validation()).put("test", size.test())
                .put("pretrain_texts", data.corpus().size()).put("dir", data.train().getParent().toString()));

        out.step(2, "creating a tiny Llama: byte-level BPE tokenizer learned from the corpus, chat template, random weights");
        Path untrained = dir.resolve(TinyModel.UNTRAINED);
        LlamaConfig config = TinyModel.write(untrained, data.corpus(), BPE_MERGES, MODEL_SEED);
        long params = parameterCount(untrained);
        out.line("%s: %d layers, dim %d, %d heads (%d KV heads), vocabulary %d (256 bytes + %d merges + %d special), %,d parameters",
                dir.relativize(untrained), config.numHiddenLayers(), config.hiddenSize(), config.numAttentionHeads(),
                config.numKeyValueHeads(), config.vocabSize(), BPE_MERGES, TinyModel.SPECIAL.size(), params);
        out.emit(out.record(2, "model").put("dir", untrained.toString()).put("layers", config.numHiddenLayers())
                .put("hidden_size", config.hiddenSize()).put("vocab_size", config.vocabSize()).put("parameters", params));

        out.step(3, "pre-training it briefly on the unlabelled text (full training; stands in for a pretrained model)");
        FineTune.Result pre = FineTune.run(DemoRecipes.pretrain(dir, size), dir.resolve(DemoRecipes.PRETRAIN_RUN), false, progress);
        Path base = pre.output();
        out.line("base model %s: loss %.3f after %d steps in %.0f s (recipe %s)", dir.relativize(base), pre.lastLoss(), pre.steps(),
                pre.seconds(), DemoRecipes.PRETRAIN);
        out.emit(out.record(3, "pretrain").put("model", base.toString()).put("steps", pre.steps()).put("loss", pre.lastLoss())
                .put("seconds", pre.seconds()));

        out.step(4, "checking the training data (jtune data check)");
        DataCheckReport check = dataCheck(data, base);
        DataCheckText.render(check, 3).lines().forEach(l -> out.line("%s", l));
        out.emit(out.record(4, "data_check").put("passed", check.passed()));
        if (check.exitCode() != 0) throw new JtuneException("the generated data has errors; see the data check above");

        out.step(5, "evaluating the base model on the test set (the baseline)");
        List<ChatTestSet.Example> testSet = ChatTestSet.read(data.test());
        Evaluator evaluator = new EvalSettings(HelpdeskTickets.labels(), false, List.of()).evaluatorFor(Task.CLASSIFICATION);
        List<Prediction> before = predict(base, null, testSet);
        EvalResult baseline = evaluator.evaluate(before);
        Path evalBase = dir.resolve("eval/baseline");
        Files.createDirectories(evalBase);
        PredictionsJsonl.write(evalBase.resolve(PredictionsJsonl.FILE), before, baseline);
        ReportWriter.write(evalBase, "jtune demo: base model on the helpdesk test set", baseline, null, null);
        out.line("accuracy %.3f, macro F1 %.3f on %d tickets; the base continues text, it does not route:", baseline.metric("accuracy"),
                baseline.metric("macro_f1"), before.size());
        out.line("  \"%s\" → \"%s\"", before.getFirst().input(), before.getFirst().prediction());
        out.emit(out.record(5, "baseline").put("accuracy", baseline.metric("accuracy")).put("macro_f1", baseline.metric("macro_f1")));

        out.step(6, "fine-tuning with LoRA (r=16 on every linear projection, EOS row trained; validation accuracy as it goes)");
        FineTune.Result lora = FineTune.run(DemoRecipes.lora(dir, size), dir.resolve(DemoRecipes.LORA_RUN), false, progress);
        out.line("adapter %s: %d steps in %.0f s, final loss %.4f, validation accuracy %s; training report %s", dir.relativize(lora.output()),
                lora.steps(), lora.seconds(), lora.lastLoss(), lora.valAccuracy() == null ? "-" : "%.3f".formatted(lora.valAccuracy()),
                dir.relativize(lora.runDir().resolve("report.html")));
        out.emit(out.record(6, "lora").put("adapter", lora.output().toString()).put("steps", lora.steps()).put("loss", lora.lastLoss())
                .put("val_accuracy", lora.valAccuracy()).put("seconds", lora.seconds()));

        out.step(7, "evaluating the fine-tuned model on the same test set, against the baseline");
        List<Prediction> after = predict(base, lora.output(), testSet);
        Comparison cmp = Comparison.run(evaluator, before, after, Comparison.DEFAULT_RESAMPLES, Comparison.DEFAULT_SEED);
        Path evalTuned = dir.resolve("eval/lora");
        Files.createDirectories(evalTuned);
        PredictionsJsonl.write(evalTuned.resolve(PredictionsJsonl.FILE), after, cmp.candidate());
        ReportWriter.write(evalTuned, "jtune demo: LoRA vs base on the helpdesk test set", cmp.candidate(), cmp, null);
        ObjectNode evalJson = out.record(7, "eval");
        for (String m : List.of("accuracy", "macro_f1")) {
            MetricDelta d = cmp.delta(m);
            out.line("%-9s %.3f → %.3f  delta %+.3f, 95%% bootstrap CI [%+.3f, %+.3f]", m, d.baseline(), d.candidate(), d.delta(),
                    d.ciLow(), d.ciHigh());
            evalJson.put(m, d.candidate()).put("baseline_" + m, d.baseline()).put(m + "_ci_low", d.ciLow()).put(m + "_ci_high", d.ciHigh());
        }
        out.line("McNemar exact test: %d tickets fixed, %d broken, p = %.3g", cmp.mcnemar().candidateOnly(), cmp.mcnemar().baselineOnly(),
                cmp.mcnemar().pValue());
        out.line("report %s, predictions %s", dir.relativize(evalTuned.resolve(ReportWriter.REPORT)),
                dir.relativize(evalTuned.resolve(PredictionsJsonl.FILE)));
        out.emit(evalJson.put("mcnemar_p", cmp.mcnemar().pValue()).put("report", evalTuned.resolve(ReportWriter.REPORT).toString()));

        out.step(8, "merging the adapter into the base model (a plain Hugging Face folder, no adapter needed)");
        Path merged = dir.resolve("merged");
        try (CausalLM m = Architectures.load(base)) {
            PeftFormat.load(lora.output(), m);
            LoraMerge.mergeInto(m, Adapters.DEFAULT);
            ModelExport.save(m, base, merged, 2_000_000_000L);
        }
        List<ChatTestSet.Example> sample = testSet.subList(0, Math.min(MERGE_CHECKS, testSet.size()));
        List<Prediction> fromMerged = predict(merged, null, sample);
        int same = 0;
        for (int i = 0; i < sample.size(); i++) if (fromMerged.get(i).prediction().equals(after.get(i).prediction())) same++;
        boolean agrees = same == sample.size();
        out.line("%s written; greedy answers of merged vs base + adapter on %d test tickets: %d identical", dir.relativize(merged),
                sample.size(), same);
        for (int i = 0; i < Math.min(4, sample.size()); i++) {
            out.line("  %-62s base+adapter: %-15s merged: %s", quoted(sample.get(i).prompt().getLast().content()),
                    after.get(i).prediction(), fromMerged.get(i).prediction());
        }
        out.emit(out.record(8, "merge").put("dir", merged.toString()).put("checked", sample.size()).put("identical", same));

        out.step(9, "routing a few new tickets with the merged model (greedy generation until EOS)");
        List<ChatTestSet.Example> fresh = newTickets(data, GENERATIONS);
        List<Prediction> routed = predict(merged, null, fresh);
        int right = 0;
        for (Prediction p : routed) {
            boolean ok = p.prediction().equals(p.reference());
            if (ok) right++;
            out.line("%-66s → %s%s", quoted(p.input()), p.prediction(), ok ? "" : "   (expected " + p.reference() + ")");
        }
        out.emit(out.record(9, "generate").put("tickets", routed.size()).put("correct", right));

        double seconds = (System.nanoTime() - t0) / 1e9;
        out.step(10, "summary");
        out.line("test accuracy %.3f → %.3f, macro F1 %.3f → %.3f; whole demo %.0f s (pre-training %.0f s, LoRA %.0f s)",
                baseline.metric("accuracy"), cmp.candidate().metric("accuracy"), baseline.metric("macro_f1"),
                cmp.candidate().metric("macro_f1"), seconds, pre.seconds(), lora.seconds());
        out.line("the folder (kept):");
        for (String l : FolderLayout.render(dir)) out.line("  %s", l);
        out.line("repeat any step with the CLI:");
        for (String c : RepeatCommands.of(dir)) out.line("  %s", c);
        DemoOutcome outcome = new DemoOutcome(baseline.metric("accuracy"), cmp.candidate().metric("accuracy"), baseline.metric("macro_f1"),
                cmp.candidate().metric("macro_f1"), cmp.mcnemar().pValue(), agrees, pre.seconds(), lora.seconds(), seconds);
        out.emit(out.record(10, "summary").put("dir", dir.toString()).put("baseline_accuracy", outcome.baselineAccuracy())
                .put("accuracy", outcome.tunedAccuracy()).put("merged_agrees", agrees).put("seconds", seconds)
                .put("succeeded", outcome.succeeded()));
        return outcome;
    }

    private DataCheckReport dataCheck(DemoDataset data, Path model) throws JtuneException {
        ModelTokenCounter counts = new ModelTokenCounter(model, null, dir.relativize(model).toString());
        return DataCheck.run(DataCheckOptions.builder(data.train()).validation(data.validation()).sequenceLength(128)
                .model(counts).build());
    }

    /** Greedy answers of a model (with an adapter, or null) to the examples, batched, stopping at EOS. */
    private static List<Prediction> predict(Path model, Path adapter, List<ChatTestSet.Example> examples) throws Exception {
        try (CausalLM m = Architectures.load(model)) {
            if (adapter != null) PeftFormat.load(adapter, m);
            Tokenizer tok = Tokenizer.load(model);
            return new ModelEvaluation(m, tok, ChatTemplate.load(model), null, ModelEvaluation.greedy(m, tok, 16), 32).run(examples);
        }
    }

    /** Tickets in none of the demo's files (splits or pre-training text), one per queue in turn. */
    private static List<ChatTestSet.Example> newTickets(DemoDataset data, int count) throws JtuneException {
        Set<String> taken = new HashSet<>(data.corpus());
        for (Path p : List.of(data.train(), data.validation(), data.test())) {
            for (ChatTestSet.Example e : ChatTestSet.read(p)) taken.add(e.prompt().getLast().content());
        }
        List<ChatTestSet.Example> out = new ArrayList<>();
        int i = 0;
        for (HelpdeskTickets.Ticket t : HelpdeskTickets.distinct(count, new Rng(DemoDataset.SEED + 1), taken)) {
            out.add(new ChatTestSet.Example("new-" + ++i, List.of(Message.system(HelpdeskTickets.SYSTEM), Message.user(t.text())), t.label(),
                    "new ticket " + i));
        }
        return out;
    }

    private static long parameterCount(Path model) throws Exception {
        try (CausalLM m = Architectures.load(model)) {
            return m.weights().named().values().stream().mapToLong(v -> v.value().numel()).sum();
        }
    }

    private static String quoted(String s) {
        return '"' + s + '"';
    }
}
